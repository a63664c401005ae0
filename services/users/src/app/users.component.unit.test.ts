import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Caller } from '@conveyor/platform/core';
import { v7 as uuidv7 } from 'uuid';
import { accountKey } from '../adapters/account-key.ts';
import { inMemoryUsers, TEST_PASSWORD } from '../testing/in-memory-users.ts';

// The users use cases through buildApp on in-memory adapters: what the gRPC port calls, without
// Postgres, NATS or argon2 (the sealer and token service are the production ones).

const failsWith = (code: string, message?: RegExp | string) => (error: Error & { code?: string }) => {
  assert.equal(error.code, code, error.message);
  if (typeof message === 'string') assert.equal(error.message, message);
  else if (message) assert.match(error.message, message);
  return true;
};
const ada = { email: 'Ada@Example.com ', name: '  Ada   Lovelace ', password: TEST_PASSWORD };

describe('users component (buildApp, in memory)', () => {
  it('signs up a new address once; the same address again answers alike and tells its owner', async () => {
    const t = await inMemoryUsers();
    assert.equal(await t.app.createUser(ada), undefined);
    const [row] = [...t.users.rows.values()];
    assert.deepEqual(
      [row?.user.email, row?.user.name, row?.user.role],
      ['ada@example.com', 'Ada Lovelace', 'customer'],
    );
    assert.deepEqual(t.users.eventTypes(), ['user.created']);
    const created = t.users.outbox[0]!.event;
    // user.created carries the personal data sealed with the new user's key, never in the clear.
    assert.doesNotMatch(JSON.stringify(created.data), /ada@example\.com/i);

    // Same answer for a taken address (case and spaces aside), no second account, one attempt event.
    assert.equal(await t.app.createUser({ ...ada, email: 'ADA@example.com' }), undefined);
    await t.app.createUser(ada);
    assert.equal(t.users.rows.size, 1);
    assert.deepEqual(t.users.eventTypes(), ['user.created', 'user.signup_attempted']);
    const attempted = t.users.outbox[1]!.event;
    assert.deepEqual(attempted.data, { userId: row!.user.id, attemptedAt: t.clock.now().toISOString() });
    t.clock.advance(60 * 60_000);
    await t.app.createUser(ada);
    assert.deepEqual(t.users.eventTypes(), [
      'user.created',
      'user.signup_attempted',
      'user.signup_attempted',
    ]);
  });

  it('refuses bad sign-ups naming the field, and stores nothing', async () => {
    const t = await inMemoryUsers();
    const cases: [Parameters<typeof t.app.createUser>[0], string | RegExp][] = [
      [{ ...ada, email: '' }, 'email: is required'],
      [{ ...ada, email: 'not an address' }, /^email: "not an address" is not an email address$/],
      [
        { ...ada, email: `${'a'.repeat(65)}@example.com` },
        'email: must have at most 64 characters before the @',
      ],
      [{ ...ada, name: ' ' }, 'name: is required'],
      [{ ...ada, name: 'x'.repeat(101) }, 'name: must be at most 100 characters'],
      [{ ...ada, name: 'Ada\u0007' }, 'name: must not contain control characters'],
      [{ ...ada, password: '' }, 'password: is required'],
      [{ ...ada, password: 'short' }, 'password: must be at least 12 characters'],
      [{ ...ada, password: 'p'.repeat(129) }, 'password: must be at most 128 characters'],
    ];
    for (const [input, message] of cases) {
      await assert.rejects(t.app.createUser(input), failsWith('INVALID_ARGUMENT', message));
    }
    assert.deepEqual([t.users.rows.size, t.users.outbox.length], [0, 0]);
  });

  it('issues a token for the right password only, with one answer for unknown and wrong', async () => {
    const t = await inMemoryUsers();
    await t.app.createUser(ada);
    const signedIn = await t.app.authenticate({ email: ' ADA@example.com', password: TEST_PASSWORD });
    assert.equal(signedIn.user.email, 'ada@example.com');
    assert.equal(signedIn.expiresAt.getTime(), t.clock.now().getTime() + 900_000);
    const claims = await t.app.verifyToken(signedIn.token);
    assert.deepEqual([claims.subject, claims.role], [signedIn.user.id, 'customer']);

    const refused = failsWith('UNAUTHENTICATED', 'email or password is wrong');
    await assert.rejects(t.app.authenticate({ email: ada.email, password: `${TEST_PASSWORD}!` }), refused);
    await assert.rejects(
      t.app.authenticate({ email: 'nobody@example.com', password: TEST_PASSWORD }),
      refused,
    );
    await assert.rejects(
      t.app.authenticate({ email: ' ', password: TEST_PASSWORD }),
      failsWith('INVALID_ARGUMENT', 'email: is required'),
    );
    await assert.rejects(
      t.app.authenticate({ email: ada.email, password: '' }),
      failsWith('INVALID_ARGUMENT', 'password: is required'),
    );
  });

  it('locks an account after five failures, lets its known device through, and forgets on success', async () => {
    const t = await inMemoryUsers();
    await t.app.createUser(ada);
    const { deviceToken } = await t.app.authenticate(ada);
    const wrong = { email: ada.email, password: 'wrong password!!' };
    for (let i = 0; i < 5; i++) {
      await assert.rejects(t.app.authenticate(wrong), failsWith('UNAUTHENTICATED'));
    }
    await assert.rejects(
      t.app.authenticate(ada),
      failsWith('RESOURCE_EXHAUSTED', 'too many failed sign-ins for this account; try again in 30 s'),
    );
    // The device that signed in before is throttled on its own.
    assert.equal((await t.app.authenticate({ ...ada, deviceToken })).user.email, 'ada@example.com');
    // An unknown address is throttled alike, so throttling does not tell who has an account.
    const stranger = { email: 'nobody@example.com', password: 'wrong password!!' };
    for (let i = 0; i < 5; i++)
      await assert.rejects(t.app.authenticate(stranger), failsWith('UNAUTHENTICATED'));
    await assert.rejects(t.app.authenticate(stranger), failsWith('RESOURCE_EXHAUSTED'));

    t.clock.advance(30_000);
    await t.app.authenticate(ada);
    assert.equal(t.attempts.states.has(accountKey('ada@example.com')), false, 'success forgets failures');
  });

  it('refuses a token after sign-out, a role change or a password change (token generations)', async () => {
    const t = await inMemoryUsers();
    const alice = await t.signUp();
    assert.equal((await t.app.verifyToken(alice.token)).subject, alice.user.id);
    await t.app.signOut(alice.caller);
    const revoked = failsWith('UNAUTHENTICATED', 'access token revoked: sign in again');
    await assert.rejects(t.app.verifyToken(alice.token), revoked);
    const again = await t.app.authenticate({ email: alice.user.email, password: TEST_PASSWORD });
    assert.equal((await t.app.verifyToken(again.token)).generation, 1);

    await assert.rejects(
      t.app.verifyToken('not.a.token'),
      failsWith('UNAUTHENTICATED', /^access token rejected: /),
    );
    await assert.rejects(t.app.verifyToken(''), failsWith('UNAUTHENTICATED', 'access token missing'));
    t.clock.advance(901_000 + 5_000);
    await assert.rejects(
      t.app.verifyToken(again.token),
      failsWith('UNAUTHENTICATED', 'access token rejected: expired'),
    );
  });

  it('makes the first admin by bootstrap once; only admins change roles; the last admin stays', async () => {
    const t = await inMemoryUsers();
    const first = await t.bootstrapAdmin({
      email: 'root@example.com',
      name: 'Root',
      password: TEST_PASSWORD,
    });
    assert.equal(first.kind, 'created');
    assert.deepEqual(t.users.eventTypes(), ['user.created', 'user.role_changed']);
    const again = await t.bootstrapAdmin({ email: 'other@example.com', name: 'O', password: TEST_PASSWORD });
    assert.deepEqual(again, { kind: 'admin-exists', email: 'root@example.com' });

    const signedIn = await t.app.authenticate({ email: 'root@example.com', password: TEST_PASSWORD });
    const root: Caller = { subject: signedIn.user.id, role: 'admin' };
    const bob = await t.signUp();
    await assert.rejects(
      t.app.changeRole(bob.caller, { userId: bob.user.id, role: 'admin' }),
      failsWith('PERMISSION_DENIED', 'this call needs the admin role; the caller is customer'),
    );
    await assert.rejects(
      t.app.changeRole(root, { userId: 'nope', role: 'admin' }),
      failsWith('INVALID_ARGUMENT', /^user_id: /),
    );
    await assert.rejects(t.app.changeRole(root, { userId: uuidv7(), role: 'admin' }), failsWith('NOT_FOUND'));
    await assert.rejects(
      t.app.changeRole(root, { userId: root.subject, role: 'customer' }),
      failsWith('FAILED_PRECONDITION', /last admin/),
    );

    const promoted = await t.app.changeRole(root, { userId: bob.user.id, role: 'admin' });
    assert.deepEqual([promoted.role, promoted.tokenGeneration], ['admin', 1]);
    const changed = t.users.outbox.at(-1)!.event;
    assert.deepEqual(changed.data, {
      userId: bob.user.id,
      role: 'admin',
      previousRole: 'customer',
      changedBy: root.subject,
      changedAt: t.clock.now().toISOString(),
    });
    // Bob's customer token is refused now; asking again changes nothing.
    await assert.rejects(t.app.verifyToken(bob.token), failsWith('UNAUTHENTICATED', /revoked/));
    const events = t.users.outbox.length;
    assert.equal((await t.app.changeRole(root, { userId: bob.user.id, role: 'admin' })).tokenGeneration, 1);
    assert.equal(t.users.outbox.length, events);
    // With two admins, root may step down.
    assert.equal((await t.app.changeRole(root, { userId: root.subject, role: 'customer' })).role, 'customer');
  });

  it('reveals sealed personal data to the notifications service only, and never after erasure', async () => {
    const t = await inMemoryUsers();
    await t.app.createUser(ada);
    const created = t.users.outbox[0]!.event.data as { userId: string; personalData: string };
    const notifications = await t.service('notifications');
    const reveal = (caller: Caller, input = { userId: created.userId, sealed: created.personalData }) =>
      t.app.revealPersonalData(caller, input);
    assert.deepEqual(await reveal(notifications), { email: 'ada@example.com', name: 'Ada Lovelace' });

    const { caller: customer } = await t.signUp();
    await assert.rejects(reveal(customer), failsWith('PERMISSION_DENIED', /needs the service role/));
    await assert.rejects(reveal({ subject: uuidv7(), role: 'admin' }), failsWith('PERMISSION_DENIED'));
    await assert.rejects(
      reveal(await t.service('orders')),
      failsWith('PERMISSION_DENIED', 'service orders may not call RevealPersonalData'),
    );
    await assert.rejects(
      reveal(notifications, { userId: created.userId, sealed: '' }),
      failsWith('INVALID_ARGUMENT', 'sealed: is required'),
    );
    await assert.rejects(
      reveal(notifications, { userId: customer.subject, sealed: created.personalData }),
      failsWith('INVALID_ARGUMENT', 'sealed: is not personal data sealed for this user'),
    );
    await assert.rejects(
      reveal(notifications, { userId: 'x', sealed: created.personalData }),
      failsWith('INVALID_ARGUMENT', /^user_id: /),
    );
    await assert.rejects(
      t.app.issueServiceToken({ service: 'notifications', secret: 'guess' }),
      failsWith('UNAUTHENTICATED', 'unknown service or wrong secret'),
    );
  });

  it('erases a user: personal data unreadable, a tombstone, user.erased once; owner or admin only', async () => {
    const t = await inMemoryUsers();
    const alice = await t.signUp('alice@example.com');
    const bob = await t.signUp();
    const sealed = (t.users.outbox[0]!.event.data as { personalData: string }).personalData;
    const notifications = await t.service('notifications');
    await assert.rejects(
      t.app.eraseUser(bob.caller, alice.user.id),
      failsWith('PERMISSION_DENIED', `user ${alice.user.id} belongs to another user`),
    );
    await assert.rejects(t.app.eraseUser(notifications, alice.user.id), failsWith('PERMISSION_DENIED'));

    const erasedAt = await t.app.eraseUser(alice.caller, alice.user.id);
    assert.deepEqual(erasedAt, t.clock.now());
    assert.deepEqual(t.users.outbox.at(-1)!.event.data, {
      userId: alice.user.id,
      erasedAt: erasedAt.toISOString(),
    });
    assert.equal(t.users.dataKeys.has(alice.user.id), false);
    await assert.rejects(
      t.app.revealPersonalData(notifications, { userId: alice.user.id, sealed }),
      failsWith('NOT_FOUND', `user ${alice.user.id} was erased or never existed`),
    );
    await assert.rejects(t.app.verifyToken(alice.token), failsWith('UNAUTHENTICATED', /no longer exists/));
    await assert.rejects(
      t.app.authenticate({ email: 'alice@example.com', password: TEST_PASSWORD }),
      failsWith('UNAUTHENTICATED', 'email or password is wrong'),
    );
    const admin: Caller = { subject: uuidv7(), role: 'admin' };
    await assert.rejects(t.app.getUser(admin, alice.user.id), failsWith('NOT_FOUND'));

    // Again: the first erasure's time, no second event. The address is free to sign up again.
    t.clock.advance(1000);
    assert.deepEqual(await t.app.eraseUser(admin, alice.user.id), erasedAt);
    assert.equal(t.users.eventTypes().filter((type) => type === 'user.erased').length, 1);
    await t.app.createUser({ email: 'alice@example.com', name: 'New Alice', password: TEST_PASSWORD });
    assert.equal(t.users.eventTypes().at(-1), 'user.created');
    await assert.rejects(t.app.eraseUser(admin, uuidv7()), failsWith('NOT_FOUND'));
  });

  it('changes a password with the current one: other sessions end, the caller gets a fresh token', async () => {
    const t = await inMemoryUsers();
    const alice = await t.signUp();
    await assert.rejects(
      t.app.changePassword(alice.caller, {
        currentPassword: 'not the password',
        newPassword: 'a new long password',
      }),
      failsWith('INVALID_ARGUMENT', 'current_password: is wrong'),
    );
    await assert.rejects(
      t.app.changePassword(alice.caller, { currentPassword: TEST_PASSWORD, newPassword: 'short' }),
      failsWith('INVALID_ARGUMENT', 'new_password: must be at least 12 characters'),
    );
    const fresh = await t.app.changePassword(alice.caller, {
      currentPassword: TEST_PASSWORD,
      newPassword: 'a new long password',
    });
    assert.equal((await t.app.verifyToken(fresh.token)).generation, 1);
    await assert.rejects(t.app.verifyToken(alice.token), failsWith('UNAUTHENTICATED', /revoked/));
    await assert.rejects(
      t.app.authenticate({ email: alice.user.email, password: TEST_PASSWORD }),
      failsWith('UNAUTHENTICATED'),
    );
    await t.app.authenticate({ email: alice.user.email, password: 'a new long password' });
    await assert.rejects(
      t.app.changePassword(await t.service('notifications'), {
        currentPassword: TEST_PASSWORD,
        newPassword: 'a new long password',
      }),
      failsWith('PERMISSION_DENIED', 'service notifications may not call ChangePassword'),
    );
  });

  it('resets a password with the mailed code once, within its lifetime; unknown addresses answer alike', async () => {
    const t = await inMemoryUsers();
    const alice = await t.signUp('alice@example.com');
    const notifications = await t.service('notifications');
    const codeOfLastRequest = async () => {
      const data = t.users.outbox.at(-1)!.event.data as { userId: string; personalData: string };
      const opened = await t.app.revealPersonalData(notifications, {
        userId: data.userId,
        sealed: data.personalData,
      });
      return opened.resetToken ?? assert.fail('no reset code sealed');
    };

    const before = t.users.outbox.length;
    assert.equal(await t.app.requestPasswordReset({ email: 'nobody@example.com' }), undefined);
    assert.equal(t.users.outbox.length, before, 'nothing for an unknown address');
    await t.app.requestPasswordReset({ email: ' Alice@example.com' });
    assert.equal(t.users.eventTypes().at(-1), 'user.password_reset_requested');
    const code = await codeOfLastRequest();
    // A second request within the minute stores and mails nothing.
    await t.app.requestPasswordReset({ email: 'alice@example.com' });
    assert.equal(t.users.outbox.length, before + 1);

    const invalid = failsWith(
      'INVALID_ARGUMENT',
      'reset_token: is unknown, used or expired: ask for a new one',
    );
    await assert.rejects(
      t.app.resetPassword({ resetToken: 'guess', newPassword: 'brand new password' }),
      invalid,
    );
    await assert.rejects(
      t.app.resetPassword({ resetToken: code, newPassword: 'short' }),
      failsWith('INVALID_ARGUMENT', 'new_password: must be at least 12 characters'),
    );
    // Failures recorded before the reset are forgotten by it.
    await assert.rejects(t.app.authenticate({ email: 'alice@example.com', password: 'wrong password!!' }));
    await t.app.resetPassword({ resetToken: code, newPassword: 'brand new password' });
    assert.equal(t.attempts.states.has(accountKey('alice@example.com')), false);
    await assert.rejects(t.app.verifyToken(alice.token), failsWith('UNAUTHENTICATED', /revoked/));
    await t.app.authenticate({ email: 'alice@example.com', password: 'brand new password' });
    await assert.rejects(
      t.app.resetPassword({ resetToken: code, newPassword: 'another new password' }),
      invalid,
    );

    // A code is good for its lifetime only (30 minutes here).
    t.clock.advance(60_000);
    await t.app.requestPasswordReset({ email: 'alice@example.com' });
    const late = await codeOfLastRequest();
    t.clock.advance(30 * 60_000);
    await assert.rejects(
      t.app.resetPassword({ resetToken: late, newPassword: 'another new password' }),
      invalid,
    );
  });

  it('lets only admins republish events, within the range and window', async () => {
    const t = await inMemoryUsers();
    const alice = await t.signUp();
    await assert.rejects(
      t.app.republishEvents(alice.caller, { fromPosition: 1, toPosition: 0 }),
      failsWith('PERMISSION_DENIED'),
    );
    const admin: Caller = { subject: uuidv7(), role: 'admin' };
    await assert.rejects(
      t.app.republishEvents(admin, { fromPosition: 0, toPosition: 0 }),
      failsWith('INVALID_ARGUMENT', 'from_position: must be 1 or more'),
    );
    assert.equal(await t.app.republishEvents(admin, { fromPosition: 1, toPosition: 0 }), 1);
    assert.deepEqual(t.eventLog.requeued, [[1, 1]]);
    // Past the window by the service's clock (a year is past it), consumers may have forgotten it.
    t.clock.advance(366 * 24 * 3600_000);
    await assert.rejects(
      t.app.republishEvents(admin, { fromPosition: 1, toPosition: 0 }),
      failsWith('FAILED_PRECONDITION', /^position 1 was recorded \d+ days ago, past the/),
    );
    assert.equal(t.eventLog.requeued.length, 1);
  });
});
