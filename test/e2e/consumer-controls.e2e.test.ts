import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type System, startSystem, waitUntil } from '@conveyor/stack';
import { callAs, independentClient, type SignedIn, signInAdmin, signUp } from '@conveyor/stack/testing';
import pg from 'pg';
import { type AdminCli, adminCli } from '../../packages/cli/src/cli-process.ts';

interface Consumer {
  stream: string;
  durable: string;
  paused: boolean;
  pending: string;
  ack_pending: string;
  ack_floor_sequence: string;
  stream_last_sequence: string;
  starts_at: string;
  replicas: { replica: string; paused: boolean; current: boolean }[];
}

/**
 * Consumer controls (issue 27 part 2, ADR 0033) across the system, with two notifications
 * replicas: an admin pauses the notifications' ORDERS consumer through the CLI (every replica
 * stops; an order placed meanwhile waits in the stream, unmailed), resets it to the start of a
 * range of orders already mailed, and resumes it: the range is delivered again, the inbox
 * recognises every event, and no customer gets a mail twice; the waiting order is mailed once.
 */
describe('consumer controls across the system (processes, two notifications replicas)', () => {
  let system: System;
  let admin: SignedIn;
  let orders: ReturnType<typeof independentClient>;
  let consumers: ReturnType<typeof independentClient>;
  let db: pg.Pool;
  let operator: AdminCli;
  const name = 'notifications/ORDERS/notifications';

  before(async () => {
    const poll = { CONSUMER_CONTROL_POLL_MS: '200' };
    system = await startSystem({
      name: 'e2e_consumer_controls',
      services: ['users', 'orders', 'notifications'],
      replicas: { notifications: 2 },
      env: { orders: poll, notifications: poll },
    });
    admin = await signInAdmin(system.address('users'));
    orders = independentClient(
      'conveyor/orders/v1/orders.proto',
      'conveyor.orders.v1.OrderService',
      system.address('orders'),
    );
    consumers = independentClient(
      'conveyor/consumers/v1/consumers.proto',
      'conveyor.consumers.v1.ConsumerService',
      system.address('notifications'),
    );
    db = new pg.Pool({ connectionString: system.databaseUrl, max: 2 });
    operator = await adminCli(system, ['users', 'orders', 'notifications']);
  });

  after(async () => {
    orders?.close();
    consumers?.close();
    await db?.end();
    await system?.stop();
    await operator?.close();
  });

  const ordersConsumer = async () => {
    const { consumers: all } = await callAs<{ consumers: Consumer[] }>(admin, consumers, 'ListConsumers', {});
    const found = all.find((c) => c.stream === 'ORDERS');
    assert.ok(found, 'notifications lists its ORDERS consumer');
    return found;
  };
  const place = async (user: SignedIn) =>
    (
      await callAs<{ order: { id: string } }>(user, orders, 'PlaceOrder', {
        items: [{ sku: 'MUG-001', quantity: 1 }],
        idempotency_key: randomUUID(),
      })
    ).order.id;
  const mailsTo = (user: SignedIn) => system.smtp.messages().filter((m) => m.to.includes(user.email));
  const mailsAbout = (user: SignedIn, orderId: string) =>
    mailsTo(user).filter((m) => `${m.subject}\n${m.text}`.includes(orderId.slice(-8))).length;
  const notificationRows = async (user: SignedIn) =>
    (
      await db.query<{ n: number }>(
        'select count(*)::int as n from notifications.notifications where user_id = $1',
        [user.userId],
      )
    ).rows[0]?.n;
  /** Every ORDERS event delivered and acknowledged: nothing more is on its way to the handler. */
  const caughtUp = async () => {
    const c = await ordersConsumer();
    return (
      Number(c.pending) === 0 &&
      Number(c.ack_pending) === 0 &&
      Number(c.ack_floor_sequence) === Number(c.stream_last_sequence)
    );
  };

  it('pauses every replica, resets to a range already mailed, and replays it with no mail twice', async () => {
    const customer = await signUp(system.address('users'), {
      email: `replay-${randomUUID().slice(0, 8)}@example.com`,
      name: 'Replay',
    });
    const rangeStart = Number((await ordersConsumer()).stream_last_sequence) + 1;
    const resetToRangeStart = (...confirm: string[]) =>
      operator.run(['consumers', 'reset', name, '--to-sequence', String(rangeStart), ...confirm]);
    const mailed = [await place(customer), await place(customer), await place(customer)];
    await waitUntil(() => mailed.every((id) => mailsAbout(customer, id) === 1), {
      timeoutMs: 20_000,
      message: 'a mail for each of the three orders',
    });

    // Running: a reset is refused (exit 2, the service's FAILED_PRECONDITION).
    const running = await resetToRangeStart('--yes');
    assert.equal(running.code, 2, running.stderr);
    assert.match(running.stderr, /is not paused: pause it first/);

    const paused = await operator.run(['consumers', 'pause', name, '--reason', 'replay test']);
    assert.equal(paused.code, 0, paused.stderr);
    assert.match(paused.stdout, /paused notifications\/ORDERS\/notifications/);
    await waitUntil(
      async () => {
        const c = await ordersConsumer();
        return c.paused && c.replicas.length === 2 && c.replicas.every((r) => r.paused && r.current);
      },
      { timeoutMs: 10_000, message: 'both notifications replicas to obey the pause' },
    );
    // Placed while paused: the event waits undelivered in the stream (nobody pulls it).
    const waiting = await place(customer);
    await waitUntil(async () => Number((await ordersConsumer()).pending) === 1, {
      timeoutMs: 10_000,
      message: 'the new order.placed to wait in the stream',
    });
    assert.equal(mailsAbout(customer, waiting), 0, 'no mail while paused');

    const unconfirmed = await resetToRangeStart();
    assert.equal(unconfirmed.code, 64);
    assert.match(unconfirmed.stderr, /run it again with --yes/);
    const reset = await resetToRangeStart('--yes');
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, new RegExp(`start at sequence ${rangeStart}; it stays paused`));
    const afterReset = await ordersConsumer();
    assert.equal(afterReset.starts_at, `sequence ${rangeStart}`);
    assert.equal(
      Number(afterReset.pending),
      4,
      'the three mailed orders and the waiting one wait to be delivered',
    );

    const list = await operator.run(['consumers', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /notifications\/ORDERS\/notifications +paused/);

    const resumed = await operator.run(['consumers', 'resume', name]);
    assert.equal(resumed.code, 0, resumed.stderr);
    await waitUntil(caughtUp, { timeoutMs: 20_000, message: 'the replay to be handled' });
    await waitUntil(() => mailsAbout(customer, waiting) === 1, {
      timeoutMs: 20_000,
      message: 'the mail of the order placed while paused',
    });
    // A late duplicate would be recorded before the ack (the inbox and the notification commit
    // together) and mailed before a marker placed now: wait for the marker's mail, then count.
    const marker = await place(customer);
    await waitUntil(() => mailsAbout(customer, marker) === 1, {
      timeoutMs: 20_000,
      message: "the marker order's mail",
    });
    for (const id of [...mailed, waiting, marker])
      assert.equal(mailsAbout(customer, id), 1, `one mail for ${id}`);
    // The welcome mail and one per order, as recorded.
    assert.equal(await notificationRows(customer), 1 + 5);
    assert.equal(mailsTo(customer).length, 1 + 5);
  });
});
