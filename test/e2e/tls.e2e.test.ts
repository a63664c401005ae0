import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createDatabase,
  type EmbeddedPostgres,
  freePort,
  generateNatsSeeds,
  roleUrl,
  type System,
  startEmbeddedPostgres,
  startSystem,
} from '@conveyor/stack';
import {
  call,
  independentClient,
  makeTestCertificates,
  type TestCertificates,
  type TestNats,
  testNats,
} from '@conveyor/stack/testing';
import * as grpc from '@grpc/grpc-js';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';

describe('TLS on for gRPC, NATS and Postgres alike (processes, certificates made here)', () => {
  let dir: string;
  let certs: TestCertificates;
  let postgres: EmbeddedPostgres;
  let nats: TestNats;
  let system: System;
  let databaseUrl: string;
  let tls: grpc.ChannelCredentials;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'conveyor-tls-'));
    certs = await makeTestCertificates(join(dir, 'certs'));
    tls = grpc.credentials.createSsl(await readFile(certs.caFile));
    postgres = await startEmbeddedPostgres({
      dataDir: join(dir, 'pg'),
      port: await freePort(),
      ssl: certs,
      // The superuser may start without TLS (the start's own probe); everyone else only over TLS.
      hba: [
        'hostnossl all postgres 127.0.0.1/32 scram-sha-256',
        'hostssl   all all      127.0.0.1/32 scram-sha-256',
        '',
      ].join('\n'),
    });
    const verified = `${postgres.url}?sslmode=verify-full&sslrootcert=${encodeURIComponent(certs.caFile)}`;
    databaseUrl = await createDatabase(verified, 'conveyor_tls');
    const seeds = generateNatsSeeds();
    nats = await testNats({ seeds, tls: certs });
    system = await startSystem({
      name: 'tls',
      services: ['users', 'orders', 'notifications'],
      infra: { databaseUrl, natsUrl: nats.url, natsSeeds: seeds },
      env: {
        all: {
          GRPC_TLS_CERT_FILE: certs.certFile,
          GRPC_TLS_KEY_FILE: certs.keyFile,
          GRPC_TLS_CA_FILE: certs.caFile,
          NATS_TLS_CA_FILE: certs.caFile,
        },
      },
    });
  });

  after(async () => {
    await system?.stop();
    await nats?.stop();
    await postgres?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('signs up, places an order and mails it with every hop encrypted', async () => {
    const users = independentClient(
      'conveyor/users/v1/users.proto',
      'conveyor.users.v1.UserService',
      system.address('users'),
      tls,
    );
    const orders = independentClient(
      'conveyor/orders/v1/orders.proto',
      'conveyor.orders.v1.OrderService',
      system.address('orders'),
      tls,
    );
    try {
      const email = `tls-${randomUUID().slice(0, 8)}@example.com`;
      const password = `pw-${randomUUID()}`;
      await call(users, 'CreateUser', { email, name: 'Tess', password }, 10_000);
      const { access_token } = await call<{ access_token: string }>(users, 'Authenticate', {
        email,
        password,
      });
      const bearer = new grpc.Metadata();
      bearer.set('authorization', `Bearer ${access_token}`);
      await call(
        orders,
        'PlaceOrder',
        { items: [{ sku: 'MUG-001', quantity: 1 }], idempotency_key: randomUUID() },
        10_000,
        bearer,
      );
      // user.created and order.created crossed NATS (TLS); notifications revealed the address
      // from users (gRPC, TLS) and read and wrote Postgres (TLS).
      const mails = await system.smtp.waitFor((m) => m.to.includes(email), { count: 2, timeoutMs: 15_000 });
      const subjects = mails.map((m) => m.subject).sort();
      assert.equal(subjects.length, 2, `${subjects}`);
      assert.match(subjects[0]!, /^Order \w+ confirmed$/);
      assert.equal(subjects[1], 'Welcome to Conveyor');
    } finally {
      users.close();
      orders.close();
    }
  });

  it('has every service connection to Postgres on TLS', async () => {
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ usename: string; ssl: boolean }>(
        `select a.usename, s.ssl from pg_stat_activity a join pg_stat_ssl s using (pid)
          where a.datname = current_database() and a.usename like 'conveyor\\_%'`,
      );
      assert.ok(rows.length >= 3, `service connections: ${JSON.stringify(rows)}`);
      assert.deepEqual(
        new Set(rows.map((r) => r.usename)),
        new Set(['conveyor_users', 'conveyor_orders', 'conveyor_notifications']),
      );
      assert.ok(
        rows.every((r) => r.ssl),
        `every one encrypted: ${JSON.stringify(rows)}`,
      );
    } finally {
      await admin.end();
    }
  });

  it('refuses plaintext: gRPC, NATS and Postgres', async () => {
    const plain = independentClient(
      'conveyor/users/v1/users.proto',
      'conveyor.users.v1.UserService',
      system.address('users'),
    );
    try {
      await assert.rejects(
        call(plain, 'Authenticate', { email: 'x@example.com', password: 'y' }, 3000),
        (error: grpc.ServiceError) => error.code === grpc.status.UNAVAILABLE,
      );
    } finally {
      plain.close();
    }
    await assert.rejects(connect({ servers: nats.url, timeout: 3000, tls: null }), /tls|TLS|secure/);
    const withoutTls = new URL(roleUrl(databaseUrl, 'orders'));
    withoutTls.search = '?sslmode=disable';
    const client = new pg.Client({ connectionString: withoutTls.toString() });
    await assert.rejects(client.connect(), /no pg_hba.conf entry .* no encryption/);
  });
});
