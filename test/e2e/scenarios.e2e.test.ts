import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from '@conveyor/stack';
import * as grpc from '@grpc/grpc-js';
import {
  type ContractSystem,
  type Customer,
  rpc,
  startContractSystem,
} from '../contracts/contract-system.ts';

interface Order {
  id: string;
  status: string;
  version: number;
}

// Whole-system scenarios with every service as a process, driven through proto-loader clients with tokens.
describe('end-to-end scenarios (processes)', () => {
  let system: ContractSystem;
  let admin: Customer;
  before(async () => {
    system = await startContractSystem('e2e_scenarios');
    admin = await system.signInAdmin();
  });
  after(async () => {
    await system?.stop();
  });

  const orders = <T = { order: Order }>(method: string, request: object, who: Customer) =>
    rpc<T>(system.orders, method, request, who.metadata);
  const place = (who: Customer, key: string = randomUUID()) =>
    orders<{ order: Order; replayed: boolean }>(
      'PlaceOrder',
      { items: [{ sku: 'MUG-001', quantity: 1 }], idempotency_key: key },
      who,
    );
  const history = async (id: string, who: Customer) =>
    (
      await orders<{ entries: { event_type: string; event_id: string }[] }>(
        'GetOrderHistory',
        { order_id: id },
        who,
      )
    ).entries;
  const mailsTo = (email: string) => system.smtp.messages().filter((m) => m.to.includes(email));

  it('cancel path: place, pay, cancel; one mail per event, no more', async () => {
    const customer = await system.signUp();
    const { order } = await place(customer);
    await orders('PayOrder', { order_id: order.id }, customer);
    const cancelled = await orders(
      'CancelOrder',
      { order_id: order.id, reason: 'changed my mind' },
      customer,
    );
    assert.equal(cancelled.order.status, 'ORDER_STATUS_CANCELLED');
    const entries = await history(order.id, customer);
    assert.deepEqual(
      entries.map((e) => e.event_type),
      ['OrderPlaced', 'OrderPaid', 'OrderCancelled'],
    );
    // welcome + one per order event
    await waitUntil(() => mailsTo(customer.email).length >= 4, {
      timeoutMs: 20_000,
      intervalMs: 100,
      message: 'the four mails did not arrive',
    });
    // A marker through the same pipeline: a later order's mail. Once it is here, the events above
    // were handled and their sends made, so a late duplicate of any of them would be here too.
    const marker = await place(customer);
    const [markerPlaced] = await history(marker.order.id, customer);
    const fromMarker = (id: string) => id.startsWith(`<${markerPlaced!.event_id}.`);
    await waitUntil(() => mailsTo(customer.email).some((m) => fromMarker(m.messageId)), {
      timeoutMs: 20_000,
      intervalMs: 100,
      message: "the marker order's mail did not arrive",
    });
    const mails = mailsTo(customer.email).filter((m) => !fromMarker(m.messageId));
    assert.equal(mails.length, 4);
    assert.equal(new Set(mails.map((m) => m.messageId)).size, 4);
    for (const entry of entries)
      assert.ok(
        mails.some((m) => m.messageId.startsWith(`<${entry.event_id}.`)),
        entry.event_type,
      );
    const { notifications } = await rpc<{ notifications: { status: string; event_id: string }[] }>(
      system.notifications,
      'ListNotifications',
      { user_id: customer.id },
      customer.metadata,
    );
    const ofOrder = notifications.filter((n) => n.event_id !== markerPlaced!.event_id);
    assert.equal(ofOrder.length, 4);
    assert.ok(ofOrder.every((n) => n.status === 'NOTIFICATION_STATUS_SENT'));
    await waitUntil(
      async () =>
        (await orders('GetOrder', { order_id: order.id }, customer)).order.status ===
        'ORDER_STATUS_CANCELLED',
      {
        timeoutMs: 10_000,
        intervalMs: 100,
        message: 'the read model did not show the cancellation',
      },
    );
  });

  it('concurrent ship and cancel of a paid order: exactly one wins, the other is FAILED_PRECONDITION or ABORTED', async () => {
    for (let round = 0; round < 5; round++) {
      const customer = await system.signUp();
      const { order } = await place(customer);
      await orders('PayOrder', { order_id: order.id }, customer);
      const [ship, cancel] = await Promise.allSettled([
        orders('ShipOrder', { order_id: order.id, carrier: 'DHL', tracking_number: `T-${round}` }, admin),
        orders('CancelOrder', { order_id: order.id, reason: 'race' }, customer),
      ]);
      const won = [ship, cancel].filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1, `exactly one wins (round ${round})`);
      const lost = [ship, cancel].find((r) => r.status === 'rejected') as PromiseRejectedResult;
      const code = (lost.reason as grpc.ServiceError).code;
      assert.ok(
        code === grpc.status.FAILED_PRECONDITION || code === grpc.status.ABORTED,
        `loser got ${grpc.status[code]}`,
      );
      const winner = ship.status === 'fulfilled' ? 'OrderShipped' : 'OrderCancelled';
      const entries = await history(order.id, admin);
      assert.deepEqual(
        entries.map((e) => e.event_type),
        ['OrderPlaced', 'OrderPaid', winner],
      );
      const expected = winner === 'OrderShipped' ? 'ORDER_STATUS_SHIPPED' : 'ORDER_STATUS_CANCELLED';
      await waitUntil(
        async () => (await orders('GetOrder', { order_id: order.id }, admin)).order.status === expected,
        {
          timeoutMs: 10_000,
          intervalMs: 100,
          message: 'the read model disagrees with the event store',
        },
      );
    }
  });

  it('retried PlaceOrder with one idempotency key: one order, the retries replayed', async () => {
    const customer = await system.signUp();
    const key = randomUUID();
    const first = await place(customer, key);
    assert.equal(first.replayed, false);
    const retries = await Promise.all(Array.from({ length: 5 }, () => place(customer, key)));
    for (const retry of retries) {
      assert.equal(retry.order.id, first.order.id);
      assert.equal(retry.replayed, true);
    }
    // Concurrent first attempts with a fresh key also make one order.
    const fresh = randomUUID();
    const together = await Promise.all(Array.from({ length: 4 }, () => place(customer, fresh)));
    assert.equal(new Set(together.map((r) => r.order.id)).size, 1);
    assert.equal(together.filter((r) => !r.replayed).length, 1);
    // A marker placed after them: once the read model shows it, it has projected everything
    // before it, so a third order from the attempts above would show too.
    const marker = await place(customer);
    const listed = async () =>
      (await orders<{ orders: Order[] }>('ListOrders', { page_size: 50 }, customer)).orders.map((o) => o.id);
    await waitUntil(async () => (await listed()).includes(marker.order.id), {
      timeoutMs: 10_000,
      intervalMs: 100,
      message: 'the marker order did not reach the read model',
    });
    assert.deepEqual(
      (await listed()).filter((id) => id !== marker.order.id).sort(),
      [first.order.id, together[0]!.order.id].sort(),
      'exactly the two orders, each once',
    );
  });
});
