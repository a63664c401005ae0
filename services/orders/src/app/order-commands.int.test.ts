import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type AppError,
  createPool,
  migrate,
  type Pool,
  PostgresEventStore,
  requeueInOutbox,
} from '@conveyor/platform';
import { waitUntil } from '@conveyor/stack';
import { testDatabase } from '@conveyor/stack/testing';
import { v7 as uuidv7 } from 'uuid';
import { migrations } from '../adapters/migrations.ts';
import { PostgresCatalog } from '../adapters/postgres-catalog.ts';
import type { OrderCommand } from '../domain/order.ts';
import type { Caller } from './caller.ts';
import { changeOrder } from './change-order.ts';
import { orderCommandHandler } from './order-command-handler.ts';
import { orderStreamId } from './order-event-mapping.ts';
import { getOrderAt, getOrderHistory } from './order-history.ts';
import { placeOrder } from './place-order.ts';
import { republishEvents } from './republish-events.ts';

describe('order commands on real Postgres', () => {
  let db: Awaited<ReturnType<typeof testDatabase>>;
  let pool: Pool;
  let store: PostgresEventStore;
  let placeFor: ReturnType<typeof placeOrder>;
  let changeAs: ReturnType<typeof changeOrder>;
  const userId = uuidv7();
  const customer: Caller = { subject: userId, role: 'customer', token: 'unused' };
  const place = (input: Parameters<typeof placeFor>[1]) => placeFor(customer, input);
  const change = (orderId: string, command: OrderCommand) => changeAs(customer, orderId, command);

  before(async () => {
    db = await testDatabase('order_commands');
    await migrate({ url: db.url, schema: 'orders', migrations });
    pool = createPool({ url: db.url, schema: 'orders', applicationName: 'test', max: 20 });
    store = new PostgresEventStore(pool);
    const handle = orderCommandHandler({ store, newEventId: uuidv7, snapshotEvery: 3, maxAttempts: 5 });
    placeFor = placeOrder({
      handle,
      store,
      catalog: new PostgresCatalog(pool),
      users: { exists: async () => true },
      newOrderId: uuidv7,
      now: () => new Date(),
      paymentTimeoutMs: 0,
    });
    changeAs = changeOrder({ handle });
  });

  after(async () => {
    await pool?.end();
    await db?.drop();
  });

  const newOrder = () =>
    place({ userId, items: [{ sku: 'mug-001', quantity: 2 }], idempotencyKey: uuidv7() });

  it('prices from the catalog and writes order.created to the outbox with the same event id', async () => {
    const { order, replayed } = await newOrder();
    assert.equal(replayed, false);
    assert.deepEqual(order.items, [
      { sku: 'MUG-001', quantity: 2, unitPrice: { amountMinor: 1250, currency: 'EUR' } },
    ]);
    assert.deepEqual(order.total, { amountMinor: 2500, currency: 'EUR' });
    const [stored] = await store.readStream(orderStreamId(order.orderId));
    const { rows } = await pool.query('select subject, headers from outbox where event_id = $1', [
      stored!.eventId,
    ]);
    assert.equal(rows[0].subject, 'order.created');
    assert.equal(rows[0].headers['ce-streamversion'], '1');
    assert.equal(rows[0].headers['ce-subject'], order.orderId);
  });

  it('creates one order for two racing PlaceOrder with one idempotency key', async () => {
    const idempotencyKey = uuidv7();
    const request = { userId, items: [{ sku: 'STICKER-PACK', quantity: 1 }], idempotencyKey };
    const results = await Promise.all(Array.from({ length: 8 }, () => place(request)));
    const ids = new Set(results.map((r) => r.order.orderId));
    assert.equal(ids.size, 1);
    assert.equal(results.filter((r) => !r.replayed).length, 1);
    const { rows } = await pool.query(
      `select count(*)::int as n from events e join idempotency_claims c on c.stream_id = e.stream_id
       where c.key = $1`,
      [idempotencyKey],
    );
    assert.equal(rows[0].n, 1);
  });

  it('refuses a known idempotency key with a different body, naming the key, and replays the same body', async () => {
    const idempotencyKey = uuidv7();
    const first = await place({ userId, items: [{ sku: 'MUG-001', quantity: 2 }], idempotencyKey });
    // The same order again (SKU spelled otherwise, lines in another order): a replay.
    const again = await place({ userId, items: [{ sku: 'mug-001', quantity: 2 }], idempotencyKey });
    assert.equal(again.replayed, true);
    assert.equal(again.order.orderId, first.order.orderId);
    for (const items of [[{ sku: 'MUG-001', quantity: 3 }], [{ sku: 'STICKER-PACK', quantity: 2 }]]) {
      await assert.rejects(place({ userId, items, idempotencyKey }), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'FAILED_PRECONDITION');
        assert.match(error.message, /idempotency_key/);
        assert.ok(error.message.includes(idempotencyKey), error.message);
        return true;
      });
    }
  });

  it('keeps versions gapless under 50 concurrent commands on one order', async (t) => {
    const { order } = await newOrder();
    const kinds: OrderCommand[] = [
      { type: 'PayOrder', at: new Date() },
      { type: 'ShipOrder', carrier: 'DHL', trackingNumber: 'T1', at: new Date() },
      { type: 'DeliverOrder', at: new Date() },
      { type: 'CancelOrder', reason: 'race', at: new Date() },
    ];
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => change(order.orderId, kinds[i % kinds.length]!)),
    );
    const codes = outcomes.map((o) => (o.status === 'fulfilled' ? 'applied' : (o.reason as AppError).code));
    for (const code of codes) assert.ok(['applied', 'FAILED_PRECONDITION', 'ABORTED'].includes(code), code);
    const tally = Object.entries(Object.groupBy(codes, (c) => c)).map(([c, l]) => `${c} ${l?.length}`);
    t.diagnostic(`outcomes: ${tally.join(', ')}`);
    const events = await store.readStream(orderStreamId(order.orderId));
    assert.deepEqual(
      events.map((e) => e.version),
      events.map((_, i) => i + 1),
    );
    assert.equal(codes.filter((c) => c === 'applied').length, events.length - 1);
  });

  it('answers NOT_FOUND, FAILED_PRECONDITION and INVALID_ARGUMENT with what is wrong', async () => {
    await assert.rejects(change(uuidv7(), { type: 'PayOrder', at: new Date() }), { code: 'NOT_FOUND' });
    const { order } = await newOrder();
    await assert.rejects(change(order.orderId, { type: 'DeliverOrder', at: new Date() }), {
      code: 'FAILED_PRECONDITION',
      message: 'order is placed; cannot deliver (only shipped orders are delivered)',
    });
    await assert.rejects(change(order.orderId, { type: 'CancelOrder', reason: ' ', at: new Date() }), {
      code: 'INVALID_ARGUMENT',
      message: 'reason: is required',
    });
    await assert.rejects(place({ userId, items: [{ sku: 'NOPE', quantity: 1 }], idempotencyKey: 'k' }), {
      message: 'items[0].sku: NOPE is not in the catalog',
    });
    await assert.rejects(place({ userId, items: [{ sku: 'MUG-001', quantity: 0 }], idempotencyKey: 'k' }), {
      message: 'items[0].quantity: must be between 1 and 1000',
    });
  });

  it('travels in time by version and by instant, and loads long streams through snapshots', async () => {
    const { order } = await newOrder();
    await change(order.orderId, { type: 'PayOrder', at: new Date() });
    // The instant the payment was recorded; the shipment must be recorded in a later millisecond,
    // so the database's clock is let past it (a condition, not a pause of a guessed length).
    const afterPay = (await getOrderHistory({ store })(customer, order.orderId)).at(-1)!.recordedAt;
    await waitUntil(
      async () =>
        (await pool.query<{ t: Date }>('select clock_timestamp() as t')).rows[0]!.t.getTime() >
        afterPay.getTime(),
      { timeoutMs: 1000, intervalMs: 1, message: "the database's clock past the payment" },
    );
    await change(order.orderId, { type: 'ShipOrder', carrier: 'UPS', trackingNumber: '1Z', at: new Date() });
    await change(order.orderId, { type: 'DeliverOrder', at: new Date() });

    const history = await getOrderHistory({ store })(customer, order.orderId);
    assert.deepEqual(
      history.map((h) => [h.version, h.eventType, h.state.status]),
      [
        [1, 'OrderPlaced', 'placed'],
        [2, 'OrderPaid', 'paid'],
        [3, 'OrderShipped', 'shipped'],
        [4, 'OrderDelivered', 'delivered'],
      ],
    );
    assert.equal((await getOrderAt({ store })(customer, order.orderId, { version: 2 })).status, 'paid');
    assert.equal((await getOrderAt({ store })(customer, order.orderId, { time: afterPay })).status, 'paid');
    await assert.rejects(getOrderAt({ store })(customer, order.orderId, { version: 9 }), {
      code: 'INVALID_ARGUMENT',
    });
    await assert.rejects(getOrderAt({ store })(customer, order.orderId, { time: new Date(0) }), {
      code: 'NOT_FOUND',
    });

    const snapshot = await store.loadSnapshot(orderStreamId(order.orderId));
    assert.equal(snapshot?.version, 3);
    // A command after the snapshot still sees the true state (delivered): nothing more is allowed.
    await assert.rejects(change(order.orderId, { type: 'CancelOrder', reason: 'late', at: new Date() }), {
      code: 'FAILED_PRECONDITION',
      message: 'order is delivered; cannot cancel',
    });
  });

  it('republishes a range of stored events with their original ids, once per waiting row', async () => {
    const { order } = await newOrder();
    await change(order.orderId, { type: 'PayOrder', at: new Date() });
    const events = await store.readStream(orderStreamId(order.orderId));
    await pool.query('delete from outbox'); // as if the relay had published everything
    let now = new Date();
    const republish = republishEvents({ store, requeue: (e) => requeueInOutbox(pool, e), now: () => now });
    const range = { fromPosition: events[0]!.position, toPosition: events[1]!.position };
    assert.equal(await republish(range), 2);
    const { rows } = await pool.query('select event_id, subject, headers from outbox order by position');
    assert.deepEqual(
      rows.map((r) => [r.event_id, r.subject, r.headers['ce-streamversion']]),
      [
        [events[0]!.eventId, 'order.created', '1'],
        [events[1]!.eventId, 'order.paid', '2'],
      ],
    );
    assert.equal(await republish(range), 0, 'rows still waiting are not queued twice');
    await assert.rejects(republish({ fromPosition: 0, toPosition: 0 }), { code: 'INVALID_ARGUMENT' });
    // 31 days on, past the republish window: consumers may have forgotten these (ADR 0030).
    await pool.query('delete from outbox');
    now = new Date(events[0]!.recordedAt.getTime() + 31 * 24 * 60 * 60 * 1000);
    await assert.rejects(republish(range), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'FAILED_PRECONDITION');
      assert.match(
        error.message,
        new RegExp(
          `^position ${events[0]!.position} was recorded 31 days ago, past the 30-day republish window`,
        ),
      );
      return true;
    });
    assert.equal((await pool.query('select count(*)::int as n from outbox')).rows[0].n, 0, 'nothing queued');
  });
});
