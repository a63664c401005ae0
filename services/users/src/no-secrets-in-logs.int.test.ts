import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { usersV1 } from '@conveyor/contracts';
import { callUnary, insecure } from '@conveyor/platform';
import { type System, startSystem, waitUntil } from '@conveyor/stack';

const SERVICE_SECRET = `svc-${randomUUID()}`;

/**
 * Passwords, service secrets and tokens never reach the logs: the users
 * process runs at LOG_LEVEL=trace with its stdout and stderr captured while
 * every call that carries one succeeds and fails.
 */
describe('users logs hold no passwords, secrets or tokens (process, trace level)', () => {
  let system: System;
  let output = '';
  let client: usersV1.UserServiceClient;

  before(async () => {
    system = await startSystem({
      name: 'userslogs',
      services: ['users'],
      env: { users: { LOG_LEVEL: 'trace', USERS_SIGN_IN_MAX_FAILURES: '2' } },
      auth: { serviceSecret: SERVICE_SECRET },
      infra: { smtp: false },
      output: (line) => {
        output += `${line}\n`;
      },
      jsonOutput: true,
    });
    client = new usersV1.UserServiceClient(system.address('users'), insecure());
  });

  after(async () => {
    client?.close();
    await system?.stop();
  });

  it('logs requests and rejections, but none of what callers sent as secrets', async () => {
    const d = { deadlineMs: 10_000 };
    const password = `Pw-${randomUUID()}`;
    const shortPassword = 'Sh0rt-Pw-x';
    const wrongPassword = `Wrong-${randomUUID()}`;
    const email = `logs-${randomUUID().slice(0, 8)}@example.com`;
    await callUnary(client, client.createUser, { email, name: 'Log Test', password }, d);
    await callUnary(
      client,
      client.createUser,
      { email: 'x@example.com', name: 'X', password: shortPassword },
      d,
    ).catch(() => {});
    const { accessToken } = await callUnary(
      client,
      client.authenticate,
      { email, password, deviceToken: '' },
      d,
    );
    for (let i = 0; i < 3; i++) {
      await callUnary(
        client,
        client.authenticate,
        { email, password: wrongPassword, deviceToken: '' },
        d,
      ).catch(() => {});
    }
    const service = await callUnary(
      client,
      client.issueServiceToken,
      { service: 'notifications', secret: SERVICE_SECRET },
      d,
    );
    await callUnary(
      client,
      client.issueServiceToken,
      { service: 'notifications', secret: `${SERVICE_SECRET}-wrong` },
      d,
    ).catch(() => {});
    await callUnary(client, client.verifyToken, { accessToken: `${accessToken}x` }, d).catch(() => {});
    await callUnary(client, client.verifyToken, { accessToken: service.accessToken }, d);

    // Something was logged at trace level (rejections are logged at debug): the scan means something.
    await waitUntil(async () => /request rejected/.test(output), { timeoutMs: 5000, message: output });
    for (const [what, secret] of [
      ['password', password],
      ['short password', shortPassword],
      ['wrong password', wrongPassword],
      ['service secret', SERVICE_SECRET],
      ['access token signature', accessToken.split('.')[2]!],
      ['service token signature', service.accessToken.split('.')[2]!],
    ] as const) {
      assert.ok(!output.includes(secret), `${what} appears in the logs`);
    }
  });
});
