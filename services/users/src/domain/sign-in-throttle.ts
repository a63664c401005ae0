/**
 * Throttling of failed sign-ins per account (normalised email, known or not,
 * so answers never reveal whether an account exists). Pure: the store keeps
 * the state, the caller passes the time.
 */
export interface ThrottlePolicy {
  /** Failures allowed within `windowMs` before the account locks. */
  maxFailures: number;
  /** Quiet time after which failures are forgotten. */
  windowMs: number;
  /** The first lock; each further failure while over the limit doubles it, up to `maxLockMs`. */
  baseLockMs: number;
  maxLockMs: number;
}

export const defaultThrottlePolicy: ThrottlePolicy = {
  maxFailures: 5,
  windowMs: 15 * 60_000,
  baseLockMs: 30_000,
  maxLockMs: 15 * 60_000,
};

export interface ThrottleState {
  failures: number;
  lastFailureAt: Date;
  /** undefined: not locked. */
  lockedUntil: Date | undefined;
}

export type ThrottleDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/** Whether an attempt may be made now. */
export function checkThrottle(state: ThrottleState | undefined, now: Date): ThrottleDecision {
  if (!state?.lockedUntil) return { allowed: true };
  const retryAfterMs = state.lockedUntil.getTime() - now.getTime();
  return retryAfterMs > 0 ? { allowed: false, retryAfterMs } : { allowed: true };
}

/** The state after one more failure at `now`. */
export function recordFailure(
  state: ThrottleState | undefined,
  now: Date,
  policy: ThrottlePolicy = defaultThrottlePolicy,
): ThrottleState {
  const stale = !state || now.getTime() - state.lastFailureAt.getTime() > policy.windowMs;
  const failures = stale ? 1 : state.failures + 1;
  if (failures < policy.maxFailures) return { failures, lastFailureAt: now, lockedUntil: undefined };
  const over = failures - policy.maxFailures;
  const lockMs = Math.min(policy.baseLockMs * 2 ** Math.min(over, 30), policy.maxLockMs);
  return { failures, lastFailureAt: now, lockedUntil: new Date(now.getTime() + lockMs) };
}
