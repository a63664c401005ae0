import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type System, startSystem, waitUntil } from '@conveyor/stack';
import { callAs, independentClient, type SignedIn, signUp } from '@conveyor/stack/testing';
import pg from 'pg';

interface Order {
  id: string;
  status: string;
}
interface HistoryEntry {
  event_type: string;
  data_json: string;
}

/** Short enough for a test, long enough to kill and restart orders before it passes. */
const timeoutMs = 4000;

/**
 * Issue 27's durable timers across the system: an order not paid within ORDER_PAYMENT_TIMEOUT is
 * cancelled by the system ("payment timeout") and its customer mailed, once, although the orders
 * service is SIGKILLed around the deadline, with one replica and with two.
 */
describe('payment timeout (processes, SIGKILL around the deadline)', () => {
  let system: System;
  let orders: ReturnType<typeof independentClient>;
  let db: pg.Pool;

  before(async () => {
    system = await startSystem({
      name: 'e2e_payment_timeout',
      services: ['users', 'orders', 'notifications'],
      replicas: { orders: 2 },
      env: {
        // A killed replica's claim on a timer expires after the lease; then another fires it.
        orders: { ORDER_PAYMENT_TIMEOUT: `${timeoutMs}ms`, TIMERS_POLL_MS: '100', TIMERS_LEASE_MS: '1500' },
      },
    });
    orders = independentClient(
      'conveyor/orders/v1/orders.proto',
      'conveyor.orders.v1.OrderService',
      system.address('orders'),
    );
    db = new pg.Pool({ connectionString: system.databaseUrl, max: 2 });
  });

  after(async () => {
    orders?.close();
    await db?.end();
    await system?.stop();
  });

  const customer = () =>
    signUp(system.address('users'), { email: `late-${randomUUID().slice(0, 8)}@example.com`, name: 'Late' });
  const place = async (user: SignedIn) =>
    (
      await callAs<{ order: Order }>(user, orders, 'PlaceOrder', {
        items: [{ sku: 'MUG-001', quantity: 1 }],
        idempotency_key: randomUUID(),
      })
    ).order;
  const history = async (user: SignedIn, id: string) =>
    (await callAs<{ entries: HistoryEntry[] }>(user, orders, 'GetOrderHistory', { order_id: id })).entries;
  const cancellationMails = (user: SignedIn) =>
    system.smtp.messages().filter((m) => m.to.includes(user.email) && /cancelled/.test(m.subject));
  const timersLeft = async (ids: readonly string[]) =>
    (
      await db.query<{ n: number }>('select count(*)::int as n from orders.timers where key = any($1)', [
        ids.map((id) => `order-payment:${id}`),
      ])
    ).rows[0]!.n;

  /**
   * Every unpaid order cancelled for "payment timeout", once (its events are the truth: a second
   * firing would append a second cancellation); one mail each, and no mail or cancellation for
   * the paid one. A late duplicate would have to come from a timer still in the table, a runner
   * mid-firing, or the outbox: the check waits until the timers are gone, then for a marker
   * order's mail that went out after every cancellation was recorded.
   */
  async function expectOneCancellationEach(
    unpaid: { user: SignedIn; order: Order }[],
    paid: { user: SignedIn; order: Order },
  ) {
    await waitUntil(
      async () => {
        for (const { user } of unpaid) if (cancellationMails(user).length === 0) return false;
        return (await timersLeft([...unpaid, paid].map((x) => x.order.id))) === 0;
      },
      { timeoutMs: 30_000, message: 'a cancellation mail for every unpaid order, and no timer left' },
    );
    const marker = await customer();
    await place(marker);
    await system.smtp.waitFor((m) => m.to.includes(marker.email) && /confirmed/.test(m.subject), {
      timeoutMs: 15_000,
    });
    for (const { user, order } of unpaid) {
      const entries = await history(user, order.id);
      const cancelled = entries.filter((e) => e.event_type === 'OrderCancelled');
      assert.equal(cancelled.length, 1, `${order.id}: ${entries.map((e) => e.event_type).join(', ')}`);
      assert.equal(JSON.parse(cancelled[0]!.data_json).reason, 'payment timeout');
      const placed = JSON.parse(entries[0]!.data_json) as { paymentDueAt?: string; at: string };
      assert.equal(
        Date.parse(placed.paymentDueAt ?? '') - Date.parse(placed.at),
        timeoutMs,
        'the deadline is in the history',
      );
      const mails = cancellationMails(user);
      assert.equal(mails.length, 1, `${user.email} got ${mails.length} cancellation mails`);
      assert.match(mails[0]!.text, /payment timeout/);
    }
    const paidHistory = await history(paid.user, paid.order.id);
    assert.deepEqual(
      paidHistory.map((e) => e.event_type),
      ['OrderPlaced', 'OrderPaid'],
    );
    assert.equal(cancellationMails(paid.user).length, 0);
  }

  /** `count` orders left unpaid and one paid at once, each by its own customer; then the time. */
  async function placeOrders(count: number) {
    const unpaid = await Promise.all(
      Array.from({ length: count }, async () => {
        const user = await customer();
        return { user, order: await place(user) };
      }),
    );
    const payer = await customer();
    const paid = { user: payer, order: await place(payer) };
    await callAs(payer, orders, 'PayOrder', { order_id: paid.order.id });
    return { unpaid, paid, placedAt: Date.now() };
  }

  it('cancels unpaid orders once when every orders replica is killed before the deadline and restarted after it', async () => {
    const { unpaid, paid, placedAt } = await placeOrders(4);
    const replicas = system.replicas('orders');
    for (const r of replicas) await r.process.kill();
    const ids = unpaid.map((x) => x.order.id);
    assert.equal(await timersLeft(ids), unpaid.length, 'killed before any deadline: every timer waits');
    // The deadline passes with no orders process alive.
    await waitUntil(() => Date.now() > placedAt + timeoutMs + 500, {
      timeoutMs: timeoutMs + 5000,
      message: 'the deadline passed',
    });
    assert.equal(await timersLeft(ids), unpaid.length, 'nothing fired while orders was down');
    for (const r of replicas) await system.restart(r);
    await expectOneCancellationEach(unpaid, paid);
  });

  it('cancels unpaid orders once with two replicas racing, one SIGKILLed while the timers fall due', async () => {
    const { unpaid, paid, placedAt } = await placeOrders(12);
    // Kill the second replica (the tests call the first) as the timers fall due: it may hold claims
    // the other must take over once their lease ends.
    await waitUntil(() => Date.now() > placedAt + timeoutMs - 50, {
      timeoutMs: timeoutMs + 5000,
      message: 'the deadline',
    });
    const second = system.replicas('orders')[1]!;
    await second.process.kill();
    await expectOneCancellationEach(unpaid, paid);
    await system.restart(second);
  });
});
