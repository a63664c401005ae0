import type { ThrottleState } from '../domain/sign-in-throttle.ts';

/** An attempt that may go ahead carries what it changed, so it can be refunded. */
export type SignInAttempt =
  | { allowed: false; retryAfterMs: number }
  | {
      allowed: true;
      /** The account's state before this attempt; undefined: no failures. */
      before: ThrottleState | undefined;
      /** The state with this attempt counted as a failure. */
      counted: ThrottleState;
    };

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
  begin(account: string, now: Date): Promise<SignInAttempt>;
  succeeded(account: string): Promise<void>;
  /**
   * Undoes an attempt that reached no verdict (the password could not be
   * checked: hasher saturated, database gone), so it does not count as a
   * failure. Does nothing when another attempt has counted since: that one
   * is not this one's to undo.
   */
  refund(account: string, attempt: Extract<SignInAttempt, { allowed: true }>): Promise<void>;
}
