import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { usersV1 } from '@conveyor/contracts';
import { callUnary, insecure } from '@conveyor/platform';
import { type System, startSystem, waitUntil } from '@conveyor/stack';
import { logIn, rejectsWithCode, signUp } from '@conveyor/stack/testing';
import { type ServiceError, status } from '@grpc/grpc-js';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';

/**
 * Issue 21, password change and reset: the reset mail goes through notifications with a single-use
 * code; using it (or changing the password) ends every other session.
 */
describe('password change and reset (processes, SMTP sink)', () => {
  let system: System;
  let users: usersV1.UserServiceClient;
  const deadline = { deadlineMs: 10_000 };

  before(async () => {
    system = await startSystem({
      name: 'e2e_password',
      services: ['users', 'notifications'],
      env: {
        all: { DATABASE_POOL_SIZE: '3' },
        users: { USERS_ARGON2_MEMORY_KIB: '8192', USERS_ARGON2_PASSES: '1' },
      },
    });
    users = new usersV1.UserServiceClient(system.address('users'), insecure());
  });
  after(async () => {
    users?.close();
    await system?.stop();
  });

  const verify = (token: string) =>
    callUnary(users, users.verifyToken, { accessToken: token }, deadline).then(
      () => 'ok',
      (e: ServiceError) => status[e.code],
    );

  it('mails a single-use code that sets a new password and ends every session', async () => {
    const address = system.address('users');
    const ada = await signUp(address, { password: 'the old password' });
    const before = await logIn(address, ada.email, 'the old password');
    const request = (email: string) => callUnary(users, users.requestPasswordReset, { email }, deadline);

    // The same empty answer for an address with and without an account.
    assert.deepEqual(await request('nobody-here@example.com'), await request(` ${ada.email.toUpperCase()} `));
    const [mail] = await system.smtp.waitFor(
      (m) => m.to.includes(ada.email) && m.subject === 'Reset your Conveyor password',
      { timeoutMs: 10_000 },
    );
    const code = /\n([A-Za-z0-9_-]{43})\n/.exec(mail?.text ?? '')?.[1];
    assert.ok(code, `a code in the mail:\n${mail?.text}`);

    await rejectsWithCode(
      callUnary(users, users.resetPassword, { resetToken: code, newPassword: 'short' }, deadline),
      status.INVALID_ARGUMENT,
      /^new_password: must be at least 12 characters$/,
    );
    await callUnary(
      users,
      users.resetPassword,
      { resetToken: code, newPassword: 'the new password' },
      deadline,
    );
    assert.equal(await verify(before.token), 'UNAUTHENTICATED', 'sessions from before the reset end');
    await assert.rejects(logIn(address, ada.email, 'the old password'));
    const after = await logIn(address, ada.email, 'the new password');
    assert.equal(await verify(after.token), 'ok');
    for (const used of [code, 'not-a-code', 'x'.repeat(43)]) {
      await rejectsWithCode(
        callUnary(
          users,
          users.resetPassword,
          { resetToken: used, newPassword: 'another new password' },
          deadline,
        ),
        status.INVALID_ARGUMENT,
        /^reset_token: is unknown, used or expired: ask for a new one$/,
      );
    }
    // A second request within a minute records nothing: counted where events start, once the
    // outbox is drained (a mail that would come late cannot hide here).
    await request(ada.email);
    const sql = new pg.Client({ connectionString: system.databaseUrl });
    await sql.connect();
    const nc = await connect(system.natsOptions());
    try {
      await waitUntil(async () => (await sql.query('select 1 from users.outbox')).rowCount === 0, {
        timeoutMs: 5000,
        message: 'the users outbox was not drained',
      });
      const info = await (await jetstreamManager(nc)).streams.info('USERS', {
        subjects_filter: 'user.password_reset_requested',
      });
      assert.deepEqual(info.state.subjects, { 'user.password_reset_requested': 1 });
    } finally {
      await nc.close();
      await sql.end();
    }
  });

  it('changes the password with the current one: a fresh token, every other session ended', async () => {
    const address = system.address('users');
    const bo = await signUp(address, { password: 'bo first password' });
    const other = await logIn(address, bo.email, 'bo first password');
    const change = (current: string, next: string) =>
      callUnary(
        users,
        users.changePassword,
        { currentPassword: current, newPassword: next },
        { ...deadline, metadata: bo.metadata() },
      );
    await rejectsWithCode(
      change('not the password', 'bo second password'),
      status.INVALID_ARGUMENT,
      /^current_password: is wrong$/,
    );
    assert.equal(await verify(bo.token), 'ok', 'a wrong current password ends nothing');
    const changed = await change('bo first password', 'bo second password');
    assert.equal(await verify(changed.accessToken), 'ok');
    assert.equal(await verify(other.token), 'UNAUTHENTICATED');
    assert.equal(await verify(bo.token), 'UNAUTHENTICATED');
    await logIn(address, bo.email, 'bo second password');
  });
});
