import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PoisonMessageError, type StoredEvent } from '@conveyor/platform';
import { v7 as uuidv7 } from 'uuid';
import { PostgresOrderReadModels } from '../adapters/postgres-read-models.ts';
import { lifecycle, type OrdersDb, ordersDb } from '../testing/order-streams.ts';
import { decodeOrderEvent } from './order-event-mapping.ts';
import { StreamBehind } from './order-projection.ts';
import { projectOrderEvent } from './project-order-event.ts';

describe('projectOrderEvent (real Postgres)', () => {
  let t: OrdersDb;
  const userId = uuidv7();

  before(async () => {
    t = await ordersDb('order_projection');
  });

  after(async () => {
    await t?.close();
  });

  /** A new order with the commands of `variant`'s lifecycle in the store; its stored events. */
  async function storedOrder(variant: number): Promise<{ orderId: string; events: StoredEvent[] }> {
    const orderId = uuidv7();
    const events: StoredEvent[] = [];
    for (const command of lifecycle(orderId, userId, variant)) {
      events.push(...(await t.append(orderId, command)));
    }
    return { orderId, events };
  }

  const deliver = (orderId: string, stored: StoredEvent) =>
    t.project(orderId, stored.version, decodeOrderEvent(stored));

  it('applies a lifecycle delivered in order, evolving the row event by event', async () => {
    const { orderId, events } = await storedOrder(3);
    const outcomes = [];
    for (const e of events) outcomes.push(await deliver(orderId, e));
    assert.deepEqual(outcomes, ['applied', 'applied', 'applied', 'applied']);
    const order = await t.readModels.getOrder(orderId);
    assert.equal(order?.status, 'delivered');
    assert.equal(order?.version, 4);
    assert.equal(order?.carrier, 'DHL');
  });

  it('ignores the same event delivered again and leaves the row exactly as it was', async () => {
    const { orderId, events } = await storedOrder(1);
    await deliver(orderId, events[0]!);
    await deliver(orderId, events[1]!);
    const before = (await t.rows()).get(orderId);
    assert.equal(await deliver(orderId, events[1]!), 'duplicate');
    assert.equal(await deliver(orderId, events[0]!), 'duplicate');
    assert.deepEqual((await t.rows()).get(orderId), before);
  });

  it('stamps projected_at when it writes a row: how fresh the read model is', async () => {
    const { orderId, events } = await storedOrder(1);
    const projectedAt = async () =>
      (
        await t.pool.query<{ projected_at: Date }>(
          'select projected_at from order_summaries where order_id = $1',
          [orderId],
        )
      ).rows[0]!.projected_at;
    const before = new Date();
    await deliver(orderId, events[0]!);
    const first = await projectedAt();
    assert.ok(first >= new Date(before.getTime() - 1000) && first <= new Date(Date.now() + 1000));
    await deliver(orderId, events[1]!);
    assert.ok((await projectedAt()) > first, 'a newer version moves it');
  });

  it('ends correct when v3 arrives before v2 and v1', async () => {
    const { orderId, events } = await storedOrder(2);
    const [v1, v2, v3] = events;
    assert.equal(await deliver(orderId, v3!), 'repaired');
    assert.equal(await deliver(orderId, v2!), 'duplicate');
    assert.equal(await deliver(orderId, v1!), 'duplicate');
    const order = await t.readModels.getOrder(orderId);
    assert.equal(order?.status, 'shipped');
    assert.equal(order?.version, 3);
  });

  it('repairs a gap from the event store and evolves again after it', async () => {
    const { orderId, events } = await storedOrder(3);
    await deliver(orderId, events[0]!);
    assert.equal(await deliver(orderId, events[2]!), 'repaired');
    assert.equal((await t.readModels.getOrder(orderId))?.version, 3);
    assert.equal(await deliver(orderId, events[3]!), 'applied');
    assert.equal((await t.readModels.getOrder(orderId))?.status, 'delivered');
  });

  it('keeps the paid time of an order cancelled after payment', async () => {
    const { orderId, events } = await storedOrder(5);
    for (const e of events) await deliver(orderId, e);
    const order = await t.readModels.getOrder(orderId);
    assert.equal(order?.status, 'cancelled');
    assert.ok(order?.paidAt);
    assert.equal(order?.cancelReason, 'reason 5');
  });

  it('dead-letters an event without a stream version', async () => {
    const { orderId, events } = await storedOrder(0);
    await assert.rejects(t.project(orderId, undefined, decodeOrderEvent(events[0]!)), PoisonMessageError);
    await assert.rejects(t.project(orderId, 0, decodeOrderEvent(events[0]!)), PoisonMessageError);
  });

  it('retries an event the store does not hold yet', async () => {
    const { orderId, events } = await storedOrder(0);
    await assert.rejects(t.project(orderId, 3, decodeOrderEvent(events[0]!)), StreamBehind);
    assert.equal(await t.readModels.getOrder(orderId), undefined);
  });

  it('converges when two projectors apply the same events concurrently, in different orders', async () => {
    const orders = await Promise.all(Array.from({ length: 40 }, (_, i) => storedOrder(i)));
    const deliveries = orders.flatMap(({ orderId, events }) => events.map((e) => ({ orderId, e })));
    const second = projectOrderEvent({ table: new PostgresOrderReadModels(t.pool), store: t.store });
    const shuffled = [...deliveries].sort(() => Math.random() - 0.5);
    await Promise.all([
      ...deliveries.map(({ orderId, e }) => t.project(orderId, e.version, decodeOrderEvent(e))),
      ...shuffled.map(({ orderId, e }) => second(orderId, e.version, decodeOrderEvent(e))),
      ...shuffled.slice(0, 50).map(({ orderId, e }) => second(orderId, e.version, decodeOrderEvent(e))),
    ]);
    await t.assertRowsMatchStore({ only: orders.map((o) => o.orderId) });
  });
});
