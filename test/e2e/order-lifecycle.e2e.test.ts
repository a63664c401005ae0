import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type System, startSystem, waitUntil } from '@conveyor/stack';
import { apiClient, callAs, type SignedIn, signInAdmin, signUp } from '@conveyor/stack/testing';
import type * as grpc from '@grpc/grpc-js';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';

const OUTAGE_MS = 10_000;

interface Order {
  id: string;
  status: string;
  version: number;
  total: { amount_minor: string; currency: string };
}

describe('order lifecycle across users, orders and notifications (processes)', () => {
  let system: System;
  let usersAddress: string;
  let admin: SignedIn;
  let orders: grpc.Client;

  before(async () => {
    system = await startSystem({
      name: 'e2e_orders',
      services: ['users', 'orders', 'notifications'],
      env: { notifications: { CONSUMER_BACKOFF_MS: '200,500,1000', CONSUMER_MAX_DELIVER: '30' } },
    });
    usersAddress = system.address('users');
    admin = await signInAdmin(usersAddress);
    orders = apiClient('orders', system.address('orders'));
  });

  after(async () => {
    orders?.close();
    await system?.stop();
  });

  const newUser = (tag: string): Promise<SignedIn> =>
    signUp(usersAddress, { email: `${tag}-${randomUUID().slice(0, 8)}@example.com`, name: `User ${tag}` });
  const place = (user: SignedIn, key = randomUUID()) =>
    callAs<{ order: Order; replayed: boolean }>(user, orders, 'PlaceOrder', {
      items: [{ sku: 'MUG-001', quantity: 2 }],
      idempotency_key: key,
    });
  /** Pay and cancel as the customer, ship and deliver as the admin. */
  const command = (who: SignedIn, method: string, request: object) =>
    callAs<{ order: Order }>(/Ship|Deliver/.test(method) ? admin : who, orders, method, request);
  /**
   * Nothing left anywhere in the pipeline that could still send a mail: the orders outbox is drained,
   * the notifications consumer has every ORDERS message delivered and acknowledged (it records a
   * message's deliveries before its ack) and no delivery is scheduled. A late duplicate of any mail
   * counted after this would have had to come from one of them.
   */
  const settled = async () => {
    const sql = new pg.Client({ connectionString: system.databaseUrl });
    await sql.connect();
    const nc = await connect(system.natsOptions());
    try {
      const jsm = await jetstreamManager(nc);
      const empty = async (table: string) =>
        (await sql.query(`select 1 from ${table} limit 1`)).rowCount === 0;
      await waitUntil(
        async () => {
          const consumer = await jsm.consumers.info('ORDERS', 'notifications');
          return (
            (await empty('orders.outbox')) &&
            consumer.num_pending === 0 &&
            consumer.num_ack_pending === 0 &&
            (await empty('notifications.delivery_queue'))
          );
        },
        { timeoutMs: 30_000, intervalMs: 100, message: 'the pipeline did not settle' },
      );
    } finally {
      await nc.close();
      await sql.end();
    }
  };
  const subjects = (email: string) =>
    system.smtp
      .messages()
      .filter((m) => m.to.includes(email))
      .map((m) => m.subject);

  it('places, pays, ships and delivers with one mail per event and a read model that follows', async () => {
    const user = await newUser('life');
    const { order } = await place(user);
    assert.equal(order.status, 'ORDER_STATUS_PLACED');
    await command(user, 'PayOrder', { order_id: order.id });
    await command(user, 'ShipOrder', { order_id: order.id, carrier: 'DHL', tracking_number: 'JD014600' });
    const delivered = await command(user, 'DeliverOrder', { order_id: order.id });
    assert.equal(delivered.order.version, 4);

    await system.smtp.waitFor((m) => m.to.includes(user.email), { count: 5, timeoutMs: 10_000 });
    await settled();
    const short = order.id.slice(-8);
    assert.deepEqual(subjects(user.email).sort(), [
      `Order ${short} confirmed`,
      `Order ${short} delivered`,
      `Order ${short} shipped`,
      `Payment received for order ${short}`,
      'Welcome to Conveyor',
    ]);
    await waitUntil(
      async () =>
        (await callAs<{ order: Order }>(user, orders, 'GetOrder', { order_id: order.id })).order.version ===
        4,
      { timeoutMs: 5000, message: 'read model did not reach version 4' },
    );
    const listed = await callAs<{ orders: Order[] }>(user, orders, 'ListOrders', {});
    assert.equal(listed.orders[0]?.status, 'ORDER_STATUS_DELIVERED');
    const history = await callAs<{ entries: { event_type: string }[] }>(user, orders, 'GetOrderHistory', {
      order_id: order.id,
    });
    assert.deepEqual(
      history.entries.map((e) => e.event_type),
      ['OrderPlaced', 'OrderPaid', 'OrderShipped', 'OrderDelivered'],
    );
  });

  it('returns the first order for a retried PlaceOrder with the same key, and mails once', async () => {
    const user = await newUser('retry');
    const key = randomUUID();
    const results = await Promise.all([place(user, key), place(user, key), place(user, key)]);
    assert.equal(new Set(results.map((r) => r.order.id)).size, 1);
    assert.equal(results.filter((r) => r.replayed).length, 2);
    await system.smtp.waitFor((m) => m.to.includes(user.email) && /confirmed/.test(m.subject), {
      timeoutMs: 10_000,
    });
    await settled();
    assert.equal(subjects(user.email).filter((s) => /confirmed/.test(s)).length, 1);
  });

  it('lets exactly one of a concurrent ship and cancel win', async () => {
    const user = await newUser('race');
    const { order } = await place(user);
    await command(user, 'PayOrder', { order_id: order.id });
    const outcomes = await Promise.allSettled([
      command(user, 'ShipOrder', { order_id: order.id, carrier: 'UPS', tracking_number: '1Z' }),
      command(user, 'CancelOrder', { order_id: order.id, reason: 'too slow' }),
    ]);
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
    const loser = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    assert.match(String(loser.reason.details), /^order is (shipped|cancelled); cannot (cancel|ship)/);
  });

  it('accepts orders through a 10-second NATS outage and delivers every event once afterwards', async (t) => {
    const user = await newUser('outage');
    const accepted: string[] = [];
    let stop = false;
    const load = (async () => {
      // Bounded: at most 400 orders, stops when told or when the bound is hit.
      for (let i = 0; i < 400 && !stop; i++) {
        accepted.push((await place(user)).order.id);
        await sleep(40); // load pacing: about 25 orders a second
      }
    })();
    const flowing = (count: number, message: string) =>
      waitUntil(() => accepted.length >= count, { timeoutMs: 15_000, intervalMs: 20, message });
    await flowing(10, 'orders were not being accepted before the outage');
    await system.nats.kill();
    const downAt = accepted.length;
    await sleep(OUTAGE_MS); // the outage's length is the scenario, not a wait for anything
    const duringOutage = accepted.length - downAt;
    await system.nats.restart();
    await flowing(accepted.length + 10, 'orders were not accepted after NATS came back');
    stop = true;
    await load;
    t.diagnostic(`${accepted.length} orders accepted, ${duringOutage} of them while NATS was down`);
    assert.ok(duringOutage > 0, 'orders were not accepted during the outage');

    const sql = new pg.Client({ connectionString: system.databaseUrl });
    await sql.connect();
    const nc = await connect(system.natsOptions());
    try {
      await waitUntil(
        async () => (await sql.query('select count(*)::int as n from orders.outbox')).rows[0].n === 0,
        { timeoutMs: 30_000, message: 'orders outbox not drained' },
      );
      const jsm = await jetstreamManager(nc);
      const created = await jsm.streams.info('ORDERS', { subjects_filter: 'order.created' });
      const inStream = created.state.subjects?.['order.created'] ?? 0;
      const { rows } = await sql.query(
        `select count(*)::int as n from orders.events where type = 'OrderPlaced'`,
      );
      assert.equal(inStream, rows[0].n, 'every order.created exactly once in the stream');
      await waitUntil(
        async () =>
          (
            await sql.query(
              'select count(*)::int as n from orders.order_summaries where order_id = any($1::uuid[])',
              [accepted],
            )
          ).rows[0].n === accepted.length,
        { timeoutMs: 30_000, message: 'read models did not converge' },
      );
      await system.smtp.waitFor((m) => m.to.includes(user.email) && /confirmed/.test(m.subject), {
        count: accepted.length,
        timeoutMs: 60_000,
      });
      await settled();
      const confirmations = system.smtp
        .messages()
        .filter((m) => m.to.includes(user.email) && /confirmed/.test(m.subject));
      assert.equal(new Set(confirmations.map((m) => m.messageId)).size, accepted.length);
      assert.equal(confirmations.length, accepted.length, 'a confirmation was sent twice');
    } finally {
      await nc.close();
      await sql.end();
    }
  });
});
