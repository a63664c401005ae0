import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { usersV1 } from '@conveyor/contracts';
import { callUnary, insecure, migrate } from '@conveyor/platform';
import { freePort, waitUntil } from '@conveyor/stack';
import { probeReadyz } from '@conveyor/stack/readyz';
import { testDatabase, testNats } from '@conveyor/stack/testing';
import { migrations } from './adapters/migrations.ts';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const SERVICE_SECRET = `svc-${randomUUID()}`;

/**
 * Passwords, service secrets and tokens never reach the logs: the users
 * process runs at LOG_LEVEL=trace with its stdout and stderr captured while
 * every call that carries one succeeds and fails.
 */
describe('users logs hold no passwords, secrets or tokens (process, trace level)', () => {
  let db: Awaited<ReturnType<typeof testDatabase>>;
  let nats: Awaited<ReturnType<typeof testNats>>;
  let child: ChildProcess;
  let output = '';
  let client: usersV1.UserServiceClient;

  before(async () => {
    db = await testDatabase('userslogs');
    nats = await testNats();
    await migrate({ url: db.url, schema: 'users', migrations });
    const [grpcPort, opsPort] = [await freePort(), await freePort()];
    child = spawn(process.execPath, ['services/users/src/main.ts'], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: db.url,
        NATS_URL: nats.url,
        GRPC_PORT: String(grpcPort),
        OPS_PORT: String(opsPort),
        LOG_LEVEL: 'trace',
        USERS_SERVICE_SECRETS: `notifications=${SERVICE_SECRET}`,
        USERS_SIGN_IN_MAX_FAILURES: '2',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitUntil(async () => (await probeReadyz(`http://127.0.0.1:${opsPort}`)).ready, {
      timeoutMs: 20_000,
      message: `users did not become ready:\n${output}`,
    });
    client = new usersV1.UserServiceClient(`127.0.0.1:${grpcPort}`, insecure());
  });

  after(async () => {
    client?.close();
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    await nats?.stop();
    await db?.drop();
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
    const { accessToken } = await callUnary(client, client.authenticate, { email, password }, d);
    for (let i = 0; i < 3; i++) {
      await callUnary(client, client.authenticate, { email, password: wrongPassword }, d).catch(() => {});
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
