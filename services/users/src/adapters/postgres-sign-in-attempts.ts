import { type Pool, withTransaction } from '@conveyor/platform';
import type { SignInAttempt, SignInAttempts } from '../app/sign-in-attempts.ts';
import {
  checkThrottle,
  defaultThrottlePolicy,
  recordFailure,
  type ThrottlePolicy,
  type ThrottleState,
} from '../domain/sign-in-throttle.ts';

interface Row {
  failures: number;
  last_failure_at: Date;
  locked_until: Date | null;
}

export class PostgresSignInAttempts implements SignInAttempts {
  readonly #pool: Pool;
  readonly #policy: ThrottlePolicy;

  constructor(pool: Pool, policy: ThrottlePolicy = defaultThrottlePolicy) {
    this.#pool = pool;
    this.#policy = policy;
  }

  begin(account: string, now: Date): Promise<SignInAttempt> {
    return withTransaction(this.#pool, async (tx) => {
      // The row lock serialises concurrent attempts on one account.
      await tx.query(
        `insert into sign_in_failures (account, failures, last_failure_at) values ($1, 0, $2)
         on conflict (account) do nothing`,
        [account, now],
      );
      const { rows } = await tx.query<Row>(
        'select failures, last_failure_at, locked_until from sign_in_failures where account = $1 for update',
        [account],
      );
      const row = rows[0]!;
      const state: ThrottleState | undefined =
        row.failures === 0
          ? undefined
          : {
              failures: row.failures,
              lastFailureAt: row.last_failure_at,
              lockedUntil: row.locked_until ?? undefined,
            };
      const decision = checkThrottle(state, now);
      if (!decision.allowed) return decision;
      const next = recordFailure(state, now, this.#policy);
      await tx.query(
        'update sign_in_failures set failures = $2, last_failure_at = $3, locked_until = $4 where account = $1',
        [account, next.failures, next.lastFailureAt, next.lockedUntil ?? null],
      );
      return { allowed: true, before: state, counted: next };
    });
  }

  async refund(account: string, attempt: Extract<SignInAttempt, { allowed: true }>): Promise<void> {
    const { before, counted } = attempt;
    // Only while the row is as this attempt left it; no failures is a row at 0 (begin reads it so).
    await this.#pool.query(
      `update sign_in_failures set failures = $2, last_failure_at = $3, locked_until = $4
       where account = $1 and failures = $5 and last_failure_at = $6`,
      [
        account,
        before?.failures ?? 0,
        before?.lastFailureAt ?? counted.lastFailureAt,
        before?.lockedUntil ?? null,
        counted.failures,
        counted.lastFailureAt,
      ],
    );
  }

  async succeeded(account: string): Promise<void> {
    await this.#pool.query('delete from sign_in_failures where account = $1', [account]);
  }

  /**
   * Deletes up to `limit` rows that no longer change any decision: quiet for
   * longer than the window (the next failure starts counting afresh) and not
   * locked. Without this, every address ever tried and never signed in with
   * (a guess, a typo) would keep its row forever. Returns how many went.
   */
  async prune(now: Date, limit = 1000): Promise<number> {
    const result = await this.#pool.query(
      `delete from sign_in_failures where account in (
         select account from sign_in_failures
         where last_failure_at < $1 and (locked_until is null or locked_until <= $2)
         order by last_failure_at limit $3 for update skip locked)`,
      [new Date(now.getTime() - this.#policy.windowMs), now, limit],
    );
    return result.rowCount ?? 0;
  }
}
