import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger, ensureStreamsAsAdmin } from '@conveyor/platform';
import { type System, startSystem, waitUntil } from '@conveyor/stack';
import { callAs, independentClient, type SignedIn, signInAdmin, signUp } from '@conveyor/stack/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';

// Issue 23: Postgres is the source of truth, NATS the transport. When NATS loses what it had
// acknowledged (here its whole store), republishing from Postgres restores every event (users'
// event log, orders' event store) and the consumers' inboxes drop every duplicate effect.
describe('NATS loses its store after the PubAcks: republishing from Postgres restores every event, with no second mail (processes)', () => {
  let system: System;
  let sql: pg.Pool;
  let admin: SignedIn;

  before(async () => {
    system = await startSystem({
      name: 'e2e_loss',
      services: ['users', 'orders', 'notifications'],
      env: { notifications: { CONSUMER_BACKOFF_MS: '200,500' } },
    });
    sql = new pg.Pool({ connectionString: system.databaseUrl, max: 2 });
    admin = await signInAdmin(system.address('users'));
  });
  after(async () => {
    await sql?.end();
    await system?.stop();
  });

  const count = async (query: string) => (await sql.query(query)).rows[0].n as number;
  const withNats = async <T>(fn: (nc: NatsConnection) => Promise<T>): Promise<T> => {
    const nc = await connect(system.natsOptions());
    try {
      return await fn(nc);
    } finally {
      await nc.close();
    }
  };
  const streamSizes = () =>
    withNats(async (nc) => {
      const jsm = await jetstreamManager(nc);
      return {
        users: (await jsm.streams.info('USERS')).state.messages,
        orders: (await jsm.streams.info('ORDERS')).state.messages,
      };
    });
  /** Both of notifications' consumers have nothing pending or unacknowledged, and nothing is scheduled. */
  const quiet = () =>
    withNats(async (nc) => {
      const jsm = await jetstreamManager(nc);
      for (const stream of ['USERS', 'ORDERS']) {
        const info = await jsm.consumers.info(stream, 'notifications');
        if (info.num_pending > 0 || info.num_ack_pending > 0) return false;
      }
      return (await count('select count(*)::int as n from notifications.delivery_queue')) === 0;
    });

  it('restores both streams from Postgres and sends no mail twice', async () => {
    const customer = await signUp(system.address('users'), {
      email: `loss-${randomUUID().slice(0, 8)}@example.com`,
    });
    const orders = independentClient(
      'conveyor/orders/v1/orders.proto',
      'conveyor.orders.v1.OrderService',
      system.address('orders'),
    );
    const users = independentClient(
      'conveyor/users/v1/users.proto',
      'conveyor.users.v1.UserService',
      system.address('users'),
    );
    try {
      await callAs(customer, orders, 'PlaceOrder', {
        items: [{ sku: 'MUG-001', quantity: 1 }],
        idempotency_key: randomUUID(),
      });
      await system.smtp.waitFor((m) => m.to.includes(customer.email), { count: 2, timeoutMs: 15_000 });
      await waitUntil(quiet, { timeoutMs: 15_000, message: 'notifications did not settle before the loss' });
      const mailsBefore = system.smtp.messages().length;
      const logged = await count('select count(*)::int as n from users.event_log');
      const stored = await count('select count(*)::int as n from orders.events');
      assert.ok(logged >= 2 && stored >= 1, `users logged ${logged} events, orders stored ${stored}`);

      // The loss: NATS's store is gone (a lost disk), after it acknowledged every event.
      await system.nats.kill();
      await rm(join(system.nats.storeDir, 'jetstream'), { recursive: true, force: true });
      await system.nats.restart();
      await ensureStreamsAsAdmin(
        { NATS_URL: system.natsUrl, NATS_STREAM_REPLICAS: 1, NATS_ADMIN_NKEY_SEED: system.natsSeeds!.admin },
        createLogger({ service: 'test', level: 'silent' }),
      );
      assert.deepEqual(await streamSizes(), { users: 0, orders: 0 });
      // The durable consumers went with the store: their services make them again as they start.
      for (const name of ['orders', 'notifications'] as const) {
        const service = system.service(name);
        await service.process.stop(10_000);
        await system.restart(service);
      }

      // Republished from Postgres, as an admin: users' event log and orders' event store.
      const fromUsers = await callAs<{ queued: string }>(admin, users, 'RepublishEvents', {
        from_position: 1,
      });
      const fromOrders = await callAs<{ queued: string }>(admin, orders, 'RepublishEvents', {
        from_position: 1,
      });
      assert.equal(Number(fromUsers.queued), logged);
      assert.equal(Number(fromOrders.queued), stored);
      await waitUntil(
        async () => {
          const sizes = await streamSizes();
          return sizes.users === logged && sizes.orders === stored;
        },
        { timeoutMs: 15_000, message: 'the streams were not refilled' },
      );

      // Every event handled again, every effect already known to the inboxes: no mail twice.
      await waitUntil(quiet, {
        timeoutMs: 20_000,
        message: 'notifications did not settle after the republish',
      });
      assert.equal(system.smtp.messages().length, mailsBefore, 'no mail sent twice');
      assert.equal(
        await count(
          `select count(*)::int as n from orders.order_summaries where user_id = '${customer.userId}'`,
        ),
        1,
      );
    } finally {
      orders.close();
      users.close();
    }
  });
});
