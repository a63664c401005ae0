import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '@conveyor/platform/errors';
import { checkThrottle, recordFailure, type ThrottleState } from '../domain/sign-in-throttle.ts';
import type { User } from '../domain/user.ts';
import { authenticate, TooManySignInFailures } from './authenticate.ts';
import type { PasswordHasher } from './password-hasher.ts';
import type { SignInAttempts } from './sign-in-attempts.ts';
import type { TokenService } from './token-service.ts';
import type { UserRepository } from './user-repository.ts';

const ada: User = {
  id: '0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e',
  email: 'ada@example.com',
  name: 'Ada',
  role: 'customer',
  createdAt: new Date(0),
  tokenGeneration: 0,
};

/** Fakes: a hasher that records which hash it checked, an in-memory throttle store on a fake clock. */
function setup() {
  const checked: string[] = [];
  const hasherState = { saturated: false };
  const hasher: PasswordHasher = {
    hash: async (p) => `hash(${p})`,
    verify: async (stored, p) => {
      if (hasherState.saturated)
        throw new AppError('UNAVAILABLE', 'users: too many password checks in progress');
      checked.push(stored);
      return stored === `hash(${p})`;
    },
  };
  const states = new Map<string, ThrottleState>();
  const attempts: SignInAttempts = {
    async begin(account, now) {
      const before = states.get(account);
      const decision = checkThrottle(before, now);
      if (!decision.allowed) return decision;
      const counted = recordFailure(before, now);
      states.set(account, counted);
      return { allowed: true, before, counted };
    },
    async succeeded(account) {
      states.delete(account);
    },
    async refund(account, attempt) {
      if (states.get(account) !== attempt.counted) return;
      if (attempt.before) states.set(account, attempt.before);
      else states.delete(account);
    },
  };
  const users = {
    findCredentials: async (email: string) =>
      email === ada.email ? { user: ada, passwordHash: 'hash(right password!)' } : undefined,
  } as unknown as UserRepository;
  const tokens = {
    issue: async (subject: string, role: string) => ({ token: `${subject}/${role}`, expiresAt: new Date(1) }),
    issueDevice: async (account: string) => `device-of-${account}`,
    verifyDevice: async (token: string, account: string) =>
      token === `device-of-${account}` ? 'd1' : undefined,
  } as unknown as TokenService;
  let nowMs = Date.parse('2026-11-24T09:00:00Z');
  const run = authenticate({
    users,
    hasher,
    attempts,
    tokens,
    dummyHash: 'DUMMY',
    accountKey: (e) => `key:${e}`,
    now: () => new Date(nowMs),
  });
  return { run, checked, states, hasherState, advance: (ms: number) => (nowMs += ms) };
}

describe('authenticate', () => {
  it('issues a token for the right password and resets the failure count', async () => {
    const { run, states } = setup();
    await run({ email: 'ada@example.com', password: 'wrong password!' }).catch(() => {});
    assert.equal(states.get('key:ada@example.com')?.failures, 1);
    const result = await run({ email: ' ADA@example.com', password: 'right password!' });
    assert.equal(result.token, `${ada.id}/customer`);
    assert.equal(states.has('key:ada@example.com'), false);
  });

  it('checks an unknown email against the dummy hash and answers exactly like a wrong password', async () => {
    const { run, checked } = setup();
    const wrong = await run({ email: 'ada@example.com', password: 'wrong password!' }).catch((e) => e);
    const unknown = await run({ email: 'nobody@example.com', password: 'wrong password!' }).catch((e) => e);
    assert.deepEqual(checked, ['hash(right password!)', 'DUMMY']);
    assert.ok(wrong instanceof AppError && unknown instanceof AppError);
    assert.equal(wrong.code, 'UNAUTHENTICATED');
    assert.deepEqual([unknown.code, unknown.message], [wrong.code, wrong.message]);
  });

  it('throttles after five failures, without checking the password, and lets through after the lock', async () => {
    const { run, checked, advance } = setup();
    for (let i = 0; i < 5; i++)
      await run({ email: 'ada@example.com', password: 'guess guess!' }).catch(() => {});
    const before = checked.length;
    const locked = await run({ email: 'ada@example.com', password: 'right password!' }).catch((e) => e);
    assert.ok(locked instanceof TooManySignInFailures);
    assert.equal(locked.message, 'too many failed sign-ins for this account; try again in 30 s');
    assert.equal(checked.length, before, 'no password check while locked');
    advance(30_000);
    assert.ok((await run({ email: 'ada@example.com', password: 'right password!' })).token);
  });

  it('does not count an attempt the hasher could not check, so overload never locks an account', async () => {
    const { run, states, hasherState } = setup();
    await assert.rejects(run({ email: 'ada@example.com', password: 'wrong password!' }));
    hasherState.saturated = true;
    for (let i = 0; i < 6; i++) {
      await assert.rejects(
        run({ email: 'ada@example.com', password: 'right password!' }),
        (error: unknown) => {
          assert.ok(error instanceof AppError);
          assert.equal(error.code, 'UNAVAILABLE');
          return true;
        },
      );
    }
    assert.equal(states.get('key:ada@example.com')?.failures, 1, 'only the wrong password counted');
    hasherState.saturated = false;
    assert.ok((await run({ email: 'ada@example.com', password: 'right password!' })).token);
  });

  it('names a missing field', async () => {
    const { run } = setup();
    await assert.rejects(run({ email: ' ', password: 'x' }), /^Error: email: is required|email: is required/);
    await assert.rejects(run({ email: 'a@b.co', password: '' }), /password: is required/);
  });
});
