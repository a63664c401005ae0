import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { streamConfigs } from '@conveyor/platform';
import { repoRoot } from '@conveyor/stack';
import { testDatabase, testNats } from '@conveyor/stack/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';

function start(service: string, env: Record<string, string>) {
  const result = spawnSync(process.execPath, [`services/${service}/src/main.ts`], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: result.status, stderr: result.stderr };
}

describe('start-up refuses a bad environment, naming the variable', () => {
  for (const service of ['users', 'orders', 'notifications']) {
    it(`${service}: missing DATABASE_URL, bad GRPC_PORT`, () => {
      const { code, stderr } = start(service, { GRPC_PORT: 'eighty' });
      assert.equal(code, 1);
      assert.match(stderr, /DATABASE_URL is not set/);
      assert.match(stderr, /GRPC_PORT is "eighty"/);
    });
  }

  it('notifications: a malformed CONSUMER_BACKOFF_MS and a non-SMTP SMTP_URL', () => {
    const { code, stderr } = start('notifications', {
      DATABASE_URL: 'postgres://x@127.0.0.1/db',
      CONSUMER_BACKOFF_MS: '1s,2s',
      SMTP_URL: 'http://mail',
    });
    assert.equal(code, 1);
    assert.match(stderr, /CONSUMER_BACKOFF_MS is "1s,2s": expected comma-separated milliseconds/);
    assert.match(stderr, /SMTP_URL is "http:\/\/mail": expected a URL starting with smtp:\/\/ or smtps:\/\//);
  });

  it('users: refuses the removed USERS_ADMIN_EMAILS rather than ignore it (roles are granted, ADR 0021)', () => {
    const { code, stderr } = start('users', {
      DATABASE_URL: 'postgres://x@127.0.0.1/db',
      USERS_ADMIN_EMAILS: 'boss@example.com',
    });
    assert.equal(code, 1);
    assert.match(
      stderr,
      /USERS_ADMIN_EMAILS .*was removed: signing up never makes an admin; run `conveyor users bootstrap-admin`/,
    );
  });

  it('users: an unreachable database is a clear start-up failure, not a hang', () => {
    const { code, stderr } = start('users', {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
      NATS_URL: 'nats://127.0.0.1:1',
      OPS_PORT: '0',
      GRPC_PORT: '0',
    });
    assert.equal(code, 1);
    assert.match(stderr, /^users: cannot start: cannot connect to NATS at nats:\/\/127.0.0.1:1/m);
    // What an operator can act on, in a line; a stack is for bugs.
    assert.doesNotMatch(stderr, /^\s+at /m, stderr);
  });
});

describe('start-up under NATS_MANAGE_TOPOLOGY=false (issue 27)', () => {
  it('orders and notifications refuse streams that differ, naming each difference, and create nothing', async () => {
    const db = await testDatabase('e2e_managed_topology');
    const nats = await testNats();
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      // The operator's streams: ORDERS kept one day only; USERS as Conveyor would make it; no DEADLETTERS.
      const [users, orders] = streamConfigs();
      await jsm.streams.add(users!);
      await jsm.streams.add({ ...orders!, max_age: nanos(24 * 3_600_000) });
      for (const service of ['orders', 'notifications']) {
        const env = {
          DATABASE_URL: db.url,
          NATS_URL: nats.url,
          NATS_MANAGE_TOPOLOGY: 'false',
          GRPC_PORT: '0',
          OPS_PORT: '0',
        };
        const migrated = spawnSync(process.execPath, [`services/${service}/src/migrate.ts`], {
          cwd: repoRoot,
          env: { PATH: process.env.PATH ?? '', ...env },
          encoding: 'utf8',
          timeout: 30_000,
        });
        assert.equal(migrated.status, 0, migrated.stderr);
        const { code, stderr } = start(service, env);
        assert.equal(code, 1, `${service} started`);
        assert.match(stderr, /NATS topology is managed outside the service \(NATS_MANAGE_TOPOLOGY=false\)/);
        assert.match(stderr, /stream ORDERS: max_age is 1d, needs at least 30d/);
        assert.match(stderr, /stream DEADLETTERS is missing/);
        assert.doesNotMatch(stderr, /^\s+at /m, `${service}: the differences, not a stack:\n${stderr}`);
      }
      assert.deepEqual((await jsm.streams.names().next()).sort(), ['ORDERS', 'USERS'], 'nothing created');
      assert.equal(
        (await jsm.streams.info('ORDERS')).config.max_age,
        nanos(24 * 3_600_000),
        'nothing changed',
      );
    } finally {
      await nc.close();
      await nats.stop();
      await db.drop();
    }
  });
});
