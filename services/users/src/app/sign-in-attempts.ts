import type { ThrottleDecision } from '../domain/sign-in-throttle.ts';

/**
 * Shared (Postgres) record of failed sign-ins per account key, so every
 * replica throttles the same account alike.
 */
export interface SignInAttempts {
  /**
   * Decides whether an attempt may go ahead and, when it may, counts it as a
   * failure before the password is checked, atomically, so concurrent
   * guesses cannot slip past the limit; `succeeded` undoes that.
   */
  begin(account: string, now: Date): Promise<ThrottleDecision>;
  succeeded(account: string): Promise<void>;
}
