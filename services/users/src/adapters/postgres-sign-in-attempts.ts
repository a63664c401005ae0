import { type Pool, withTransaction } from '@conveyor/platform';
import type { SignInAttempts } from '../app/sign-in-attempts.ts';
import {
  checkThrottle,
  defaultThrottlePolicy,
  recordFailure,
  type ThrottleDecision,
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

  begin(account: string, now: Date): Promise<ThrottleDecision> {
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
      return decision;
    });
  }

  async succeeded(account: string): Promise<void> {
    await this.#pool.query('delete from sign_in_failures where account = $1', [account]);
  }
}
