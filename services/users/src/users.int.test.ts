import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { usersV1 } from '@conveyor/contracts';
import { callUnary, insecure, migrate } from '@conveyor/platform';
import { testDatabase, testNats, waitUntil } from '@conveyor/stack';
import { status } from '@grpc/grpc-js';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { migrations } from './adapters/migrations.ts';
import { loadUsersConfig } from './config.ts';
import { type RunningUsersService, startUsersService } from './service.ts';

describe('users service (real Postgres and NATS)', () => {
  let db: Awaited<ReturnType<typeof testDatabase>>;
  let nats: Awaited<ReturnType<typeof testNats>>;
  let service: RunningUsersService;
  let client: usersV1.UserServiceClient;
  let sql: pg.Pool;

  before(async () => {
    db = await testDatabase('users');
    nats = await testNats();
    await migrate({ url: db.url, schema: 'users', migrations });
    service = await startUsersService(
      loadUsersConfig({
        DATABASE_URL: db.url,
        NATS_URL: nats.url,
        GRPC_PORT: '0',
        OPS_PORT: '0',
        LOG_LEVEL: 'warn',
      }),
    );
    client = new usersV1.UserServiceClient(`127.0.0.1:${service.grpcPort}`, insecure());
    sql = new pg.Pool({ connectionString: db.url, options: '-c search_path=users' });
  });

  after(async () => {
    client?.close();
    await sql?.end();
    await service?.stop();
    await nats?.stop();
    await db?.drop();
  });

  const create = (email: string, name: string) =>
    callUnary(client, client.createUser, { email, name }, { deadlineMs: 5000 });

  it('creates a user and publishes user.created through the outbox', async () => {
    const { user } = await create('  Grace@Example.com', 'Grace Hopper');
    assert.ok(user);
    assert.equal(user.email, 'grace@example.com');
    assert.ok(user.createdAt instanceof Date);

    const fetched = await callUnary(client, client.getUser, { id: user.id }, { deadlineMs: 5000 });
    assert.deepEqual(fetched.user, user);

    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      await waitUntil(async () => (await jsm.streams.info('USERS')).state.messages === 1, {
        timeoutMs: 5000,
        message: 'user.created did not reach the USERS stream',
      });
      const msg = await jsm.streams.getMessage('USERS', { seq: 1 });
      assert.ok(msg);
      assert.equal(msg.subject, 'user.created');
      assert.equal(msg.header.get('ce-type'), 'user.created');
      assert.equal(msg.header.get('ce-subject'), user.id);
      assert.equal(msg.header.get('Nats-Msg-Id'), msg.header.get('ce-id'));
      assert.deepEqual(msg.json(), {
        userId: user.id,
        email: 'grace@example.com',
        name: 'Grace Hopper',
        createdAt: user.createdAt.toISOString(),
      });
    } finally {
      await nc.close();
    }
    await waitUntil(async () => (await sql.query('select 1 from outbox')).rowCount === 0, {
      timeoutMs: 5000,
      message: 'outbox row was not deleted after the PubAck',
    });
  });

  it('answers ALREADY_EXISTS for a second user with the same email, and writes no event', async () => {
    await create('dup@example.com', 'First');
    await assert.rejects(
      create(' DUP@example.com ', 'Second'),
      (error: { code: number; details: string }) => {
        assert.equal(error.code, status.ALREADY_EXISTS);
        assert.match(error.details, /dup@example\.com already exists/);
        return true;
      },
    );
    const { rows } = await sql.query('select count(*)::int as n from users where email = $1', [
      'dup@example.com',
    ]);
    assert.equal(rows[0].n, 1);
  });

  const invalid: [string, { email: string; name: string }, string][] = [
    ['email', { email: 'not-an-email', name: 'X' }, 'email'],
    ['empty email', { email: '', name: 'X' }, 'email'],
    ['empty name', { email: 'x@example.com', name: '   ' }, 'name'],
  ];
  for (const [title, input, field] of invalid) {
    it(`answers INVALID_ARGUMENT naming the field for a bad ${title}`, async () => {
      await assert.rejects(
        create(input.email, input.name),
        (error: { code: number; details: string; metadata: { get(k: string): unknown[] } }) => {
          assert.equal(error.code, status.INVALID_ARGUMENT);
          assert.match(error.details, new RegExp(`^${field}: `));
          assert.deepEqual(error.metadata.get('invalid-field'), [field]);
          return true;
        },
      );
    });
  }

  it('answers NOT_FOUND for an unknown id and INVALID_ARGUMENT for a malformed one', async () => {
    await assert.rejects(
      callUnary(client, client.getUser, { id: '0192f3a0-0000-7000-8000-000000000000' }, { deadlineMs: 5000 }),
      { code: status.NOT_FOUND },
    );
    await assert.rejects(callUnary(client, client.getUser, { id: 'nope' }, { deadlineMs: 5000 }), {
      code: status.INVALID_ARGUMENT,
      details: 'id: "nope" is not a UUID',
    });
  });

  it('reports ready on the ops port and exposes metrics', async () => {
    const base = `http://127.0.0.1:${service.ops.port}`;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(((await ready.json()) as { checks: unknown }).checks, { postgres: 'ok', nats: 'ok' });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /conveyor_outbox_published_total\{subject="user.created",service="users"\} \d+/);
  });
});
