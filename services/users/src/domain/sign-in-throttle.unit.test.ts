import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkThrottle, recordFailure, type ThrottlePolicy, type ThrottleState } from './sign-in-throttle.ts';

const policy: ThrottlePolicy = {
  maxFailures: 5,
  windowMs: 15 * 60_000,
  baseLockMs: 30_000,
  maxLockMs: 15 * 60_000,
};
const t0 = new Date('2026-11-24T09:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

/** A fake clock: failures at the given offsets, each only if allowed then. */
function fail(offsets: number[]): ThrottleState | undefined {
  let state: ThrottleState | undefined;
  for (const ms of offsets) {
    if (checkThrottle(state, at(ms)).allowed) state = recordFailure(state, at(ms), policy);
  }
  return state;
}

describe('sign-in throttling', () => {
  it('allows four failures, locks on the fifth for the base lock', () => {
    const four = fail([0, 1000, 2000, 3000]);
    assert.deepEqual(checkThrottle(four, at(3001)), { allowed: true });
    const five = recordFailure(four, at(4000), policy);
    assert.deepEqual(checkThrottle(five, at(4000)), { allowed: false, retryAfterMs: 30_000 });
    assert.deepEqual(checkThrottle(five, at(33_999)), { allowed: false, retryAfterMs: 1 });
    assert.deepEqual(checkThrottle(five, at(34_000)), { allowed: true });
  });

  it('doubles the lock with each further failure, up to the maximum', () => {
    let state = fail([0, 1, 2, 3, 4]);
    const locks: number[] = [];
    let now = 5;
    for (let i = 0; i < 8; i++) {
      now = state!.lockedUntil!.getTime() - t0.getTime();
      state = recordFailure(state, at(now), policy);
      locks.push(state.lockedUntil!.getTime() - at(now).getTime());
    }
    assert.deepEqual(locks, [60_000, 120_000, 240_000, 480_000, 900_000, 900_000, 900_000, 900_000]);
  });

  it('forgets failures after a quiet window', () => {
    const state = fail([0, 1, 2, 3]);
    const later = recordFailure(state, at(3 + policy.windowMs + 1), policy);
    assert.equal(later.failures, 1);
    assert.equal(later.lockedUntil, undefined);
  });

  it('allows anything without a state', () => {
    assert.deepEqual(checkThrottle(undefined, t0), { allowed: true });
  });
});
