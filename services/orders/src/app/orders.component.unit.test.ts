import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { v7 as uuidv7 } from 'uuid';
import { inMemoryOrders } from '../testing/in-memory-order-app.ts';
import { orderStreamId } from './order-event-mapping.ts';

// The order use cases through buildApp on in-memory adapters: what the gRPC port and the
// consumers call, without Postgres, NATS or the users service.

const mug = (quantity = 1) => ({ sku: 'mug-001', quantity });
const failsWith = (code: string, message?: RegExp | string) => (error: Error & { code?: string }) => {
  assert.equal(error.code, code, error.message);
  if (typeof message === 'string') assert.equal(error.message, message);
  else if (message) assert.match(error.message, message);
  return true;
};

describe('orders component (buildApp, in memory)', () => {
  it('places an order priced from the catalog, and replays it for the same idempotency key', async () => {
    const t = inMemoryOrders();
    const alice = t.customer();
    const request = { userId: '', items: [mug(2)], idempotencyKey: 'k-1' };
    const first = await t.app.placeOrder(alice, request);
    assert.equal(first.replayed, false);
    assert.equal(first.order.userId, alice.subject);
    assert.deepEqual(first.order.total, { amountMinor: 2500, currency: 'EUR' });
    assert.deepEqual(
      t.store.outbox.map((e) => e.type),
      ['order.created'],
    );

    const again = await t.app.placeOrder(alice, { ...request, items: [{ sku: 'MUG-001', quantity: 2 }] });
    assert.deepEqual([again.replayed, again.order.orderId], [true, first.order.orderId]);
    await assert.rejects(
      t.app.placeOrder(alice, { ...request, items: [mug(3)] }),
      failsWith('FAILED_PRECONDITION', /idempotency_key: "k-1" was used for another order/),
    );
    // The key is per user: Bob's k-1 is another order.
    const bob = await t.app.placeOrder(t.customer(), request);
    assert.notEqual(bob.order.orderId, first.order.orderId);
    assert.equal(t.store.outbox.length, 2);
  });

  it('refuses unknown products, bad lines and bad keys, naming the field, and stores nothing', async () => {
    const t = inMemoryOrders();
    const alice = t.customer();
    const place = (items: { sku: string; quantity: number }[], idempotencyKey = uuidv7()) =>
      t.app.placeOrder(alice, { userId: '', items, idempotencyKey });
    const cases: [Promise<unknown>, string][] = [
      [place([{ sku: 'NOPE', quantity: 1 }]), 'items[0].sku: NOPE is not in the catalog'],
      [place([mug(0)]), 'items[0].quantity: must be between 1 and 1000'],
      [
        place([mug(), { sku: 'STICKER-PACK', quantity: 1001 }]),
        'items[1].quantity: must be between 1 and 1000',
      ],
      [place([mug(1.5)]), 'items[0].quantity: must be between 1 and 1000'],
      [
        place([mug(), { sku: ' MUG-001 ', quantity: 1 }]),
        'items[1].sku: MUG-001 appears twice; use one line with a quantity',
      ],
      [place([{ sku: 'a b', quantity: 1 }]), 'items[0].sku: "a b" is not a SKU'],
      [place([]), 'items: an order needs at least one item'],
      [place(Array.from({ length: 51 }, () => mug())), 'items: at most 50 lines per order'],
      [place([mug()], ' '), 'idempotency_key: is required (any unique string per order, e.g. a UUID)'],
    ];
    for (const [call, message] of cases) await assert.rejects(call, failsWith('INVALID_ARGUMENT', message));
    assert.equal(await t.store.headPosition(), 0);
    assert.deepEqual(t.catalog.lookups, [['NOPE']], 'only well-formed lines are looked up');
  });

  it('lets an admin order for an existing user only; a customer only for themselves', async () => {
    const t = inMemoryOrders();
    const admin = t.admin();
    const bob = t.customer();
    const forBob = await t.app.placeOrder(admin, {
      userId: bob.subject,
      items: [mug()],
      idempotencyKey: 'a',
    });
    assert.equal(forBob.order.userId, bob.subject);
    assert.deepEqual(t.users.askedWith, [admin.token], "asked with the admin's own token");

    const nobody = uuidv7();
    await assert.rejects(
      t.app.placeOrder(admin, { userId: nobody, items: [mug()], idempotencyKey: 'b' }),
      failsWith('NOT_FOUND', `user_id: no user ${nobody} (never created, or erased)`),
    );
    t.users.erase(bob.subject);
    await assert.rejects(
      t.app.placeOrder(admin, { userId: bob.subject, items: [mug()], idempotencyKey: 'c' }),
      failsWith('NOT_FOUND', /never created, or erased/),
    );
    await assert.rejects(
      t.app.placeOrder(admin, { userId: 'not-a-uuid', items: [mug()], idempotencyKey: 'd' }),
      failsWith('INVALID_ARGUMENT', /^user_id: /),
    );
    await assert.rejects(
      t.app.placeOrder(t.customer(), { userId: bob.subject, items: [mug()], idempotencyKey: 'e' }),
      failsWith('PERMISSION_DENIED', 'user_id: customers can only act for themselves'),
    );
    const service = { subject: 'service:notifications', role: 'service' as const, token: 's' };
    await assert.rejects(
      t.app.placeOrder(service, { userId: '', items: [mug()], idempotencyKey: 'f' }),
      failsWith('PERMISSION_DENIED'),
    );
    assert.equal(t.store.outbox.length, 1, 'only the order for bob was stored');
  });

  it('takes an order through its life: owner pays, admin ships and delivers; others are refused', async () => {
    const t = inMemoryOrders();
    const alice = t.customer();
    const bob = t.customer();
    const admin = t.admin();
    const { order } = await t.app.placeOrder(alice, { userId: '', items: [mug()], idempotencyKey: 'k' });
    const id = order.orderId;
    await assert.rejects(
      t.app.payOrder(bob, id),
      failsWith('PERMISSION_DENIED', `order ${id} belongs to another user`),
    );
    await assert.rejects(t.app.cancelOrder(bob, id, 'mine now'), failsWith('PERMISSION_DENIED'));
    const before = t.store.streamReads;
    assert.equal((await t.app.payOrder(alice, id)).status, 'paid');
    assert.equal(t.store.streamReads - before, 1, 'an owned command reads its stream once');

    await assert.rejects(
      t.app.shipOrder(alice, id, { carrier: 'DHL', trackingNumber: 'T-1' }),
      failsWith('PERMISSION_DENIED', 'this call needs the admin role; the caller is customer'),
    );
    await assert.rejects(t.app.deliverOrder(alice, id), failsWith('PERMISSION_DENIED', /admin role/));
    await assert.rejects(
      t.app.deliverOrder(admin, id),
      failsWith('FAILED_PRECONDITION', 'order is paid; cannot deliver (only shipped orders are delivered)'),
    );
    await assert.rejects(
      t.app.shipOrder(admin, id, { carrier: ' ', trackingNumber: 'T-1' }),
      failsWith('INVALID_ARGUMENT', 'carrier: is required'),
    );
    const shipped = await t.app.shipOrder(admin, id, { carrier: 'DHL', trackingNumber: 'T-1' });
    assert.deepEqual([shipped.status, shipped.carrier, shipped.version], ['shipped', 'DHL', 3]);
    await assert.rejects(
      t.app.cancelOrder(alice, id, 'too late'),
      failsWith('FAILED_PRECONDITION', 'order is shipped; cannot cancel'),
    );
    assert.equal((await t.app.deliverOrder(admin, id)).status, 'delivered');
    assert.deepEqual(
      t.store.outbox.map((e) => e.type),
      ['order.created', 'order.paid', 'order.shipped', 'order.delivered'],
    );
    const beforeHistory = t.store.streamReads;
    assert.equal((await t.app.getOrderHistory(alice, id)).length, 4);
    assert.equal(t.store.streamReads - beforeHistory, 1, 'an owned read reads its stream once');
    await assert.rejects(t.app.payOrder(alice, uuidv7()), failsWith('NOT_FOUND'));
    await assert.rejects(t.app.payOrder(alice, 'nope'), failsWith('INVALID_ARGUMENT', /^order_id: /));
  });

  it('lets the owner or an admin cancel, with a reason', async () => {
    const t = inMemoryOrders();
    const alice = t.customer();
    const place = async (key: string) =>
      (await t.app.placeOrder(alice, { userId: '', items: [mug()], idempotencyKey: key })).order.orderId;
    const [mine, other] = [await place('1'), await place('2')];
    await assert.rejects(
      t.app.cancelOrder(alice, mine, ' '),
      failsWith('INVALID_ARGUMENT', 'reason: is required'),
    );
    const cancelled = await t.app.cancelOrder(alice, mine, 'changed my mind');
    assert.deepEqual([cancelled.status, cancelled.cancelReason], ['cancelled', 'changed my mind']);
    assert.equal((await t.app.cancelOrder(t.admin(), other, 'out of stock')).status, 'cancelled');
    await assert.rejects(
      t.app.payOrder(alice, mine),
      failsWith('FAILED_PRECONDITION', 'order is cancelled; cannot pay'),
    );
  });

  it('cancels an order left unpaid past its deadline, once, and leaves a paid one alone', async () => {
    const t = inMemoryOrders({ paymentTimeoutMs: 30 * 60_000 });
    const alice = t.customer();
    const place = async (key: string) =>
      (await t.app.placeOrder(alice, { userId: '', items: [mug()], idempotencyKey: key })).order.orderId;
    const unpaid = await place('unpaid');
    const paid = await place('paid');
    await t.app.payOrder(alice, paid);
    assert.equal(t.store.timers.size, 1, 'payment stopped its timer');

    t.clock.advance(29 * 60_000);
    assert.equal(await t.fireDueTimers(), 0);
    t.clock.advance(60_000);
    assert.equal(await t.fireDueTimers(), 1);
    const [history] = [await t.app.getOrderHistory(alice, unpaid)];
    assert.deepEqual(
      history.map((h) => h.eventType),
      ['OrderPlaced', 'OrderCancelled'],
    );
    assert.equal(history.at(-1)?.state.cancelReason, 'payment timeout');
    const [, cancelled] = await t.store.readStream(orderStreamId(unpaid));
    assert.equal(cancelled?.metadata.actorId, 'system');
    // A timer fired again (a retry after a crash) changes nothing.
    const timer = { key: `order-payment:${unpaid}`, kind: 'order.payment-timeout', dueAt: t.clock.now() };
    await t.app.expirePayment({
      ...timer,
      payload: { orderId: unpaid },
      attempts: 1,
      lastError: undefined,
      claimedUntil: undefined,
      traceparent: undefined,
    });
    assert.equal((await t.store.readStream(orderStreamId(unpaid))).length, 2);
    assert.equal((await t.app.getOrderAt(alice, paid, { version: 2 })).status, 'paid');
  });

  it('reads orders through the projection for their owner or an admin, and lists them newest first', async () => {
    const t = inMemoryOrders();
    const alice = t.customer();
    const bob = t.customer();
    const ids: string[] = [];
    for (const key of ['1', '2', '3']) {
      ids.push(
        (await t.app.placeOrder(alice, { userId: '', items: [mug()], idempotencyKey: key })).order.orderId,
      );
      t.clock.advance(1000);
    }
    await assert.rejects(t.app.getOrder(alice, ids[0]!), failsWith('NOT_FOUND'), 'the read model lags');
    await t.app.payOrder(alice, ids[0]!);
    await t.project();
    assert.equal((await t.app.getOrder(alice, ids[0]!)).status, 'paid');
    assert.equal((await t.app.getOrder(t.admin(), ids[0]!)).version, 2);
    await assert.rejects(t.app.getOrder(bob, ids[0]!), failsWith('PERMISSION_DENIED'));
    await assert.rejects(t.app.getOrderHistory(bob, ids[0]!), failsWith('PERMISSION_DENIED'));
    await assert.rejects(t.app.getOrderAt(bob, ids[0]!, { version: 1 }), failsWith('PERMISSION_DENIED'));

    const first = await t.app.listOrders(alice, {
      userId: '',
      status: undefined,
      pageSize: 2,
      pageToken: '',
    });
    const second = await t.app.listOrders(alice, {
      userId: alice.subject,
      status: undefined,
      pageSize: 2,
      pageToken: first.nextPageToken,
    });
    assert.deepEqual(
      [...first.items, ...second.items].map((o) => o.orderId),
      [...ids].reverse(),
    );
    assert.equal(second.nextPageToken, '');
    const paid = await t.app.listOrders(t.admin(), {
      userId: alice.subject,
      status: 'paid',
      pageSize: 0,
      pageToken: '',
    });
    assert.deepEqual(
      paid.items.map((o) => o.orderId),
      [ids[0]],
    );
    await assert.rejects(
      t.app.listOrders(bob, { userId: alice.subject, status: undefined, pageSize: 0, pageToken: '' }),
      failsWith('PERMISSION_DENIED'),
    );
    assert.deepEqual(
      (await t.app.listOrders(bob, { userId: '', status: undefined, pageSize: 0, pageToken: '' })).items,
      [],
    );
  });

  it('keeps rebuild and republish for admins, and rebuilds the read model from the store', async () => {
    const t = inMemoryOrders();
    const alice = t.customer();
    const { order } = await t.app.placeOrder(alice, { userId: '', items: [mug()], idempotencyKey: 'k' });
    await t.app.payOrder(alice, order.orderId);
    await assert.rejects(
      t.app.rebuildProjections(alice, () => {}),
      failsWith('PERMISSION_DENIED', /admin role/),
    );
    await assert.rejects(
      t.app.republishEvents(alice, { fromPosition: 1, toPosition: 2 }),
      failsWith('PERMISSION_DENIED'),
    );
    const phases: string[] = [];
    await t.app.rebuildProjections(t.admin(), (p) => phases.push(p.phase));
    assert.equal(phases.at(-1), 'done');
    assert.equal((await t.app.getOrder(alice, order.orderId)).status, 'paid', 'rebuilt without projecting');
    assert.equal(await t.app.republishEvents(t.admin(), { fromPosition: 1, toPosition: 2 }), 2);
    assert.deepEqual(
      t.requeued.map((e) => e.type),
      ['order.created', 'order.paid'],
    );
  });

  it('serves the catalog to anyone', async () => {
    const t = inMemoryOrders();
    const page = await t.app.listProducts({ pageSize: 2, pageToken: '' });
    assert.deepEqual(
      page.items.map((p) => p.sku),
      ['BOOK-EDA', 'HOODIE-GRY-M'],
    );
    assert.equal((await t.app.getProduct(' mug-001 ')).price.amountMinor, 1250);
    await assert.rejects(t.app.getProduct('NOPE'), failsWith('NOT_FOUND'));
  });
});
