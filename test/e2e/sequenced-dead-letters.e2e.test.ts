import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type System, startSystem, waitUntil } from '@conveyor/stack';
import {
  call,
  callAs,
  independentClient,
  type SignedIn,
  scrape,
  signInAdmin,
  signUp,
  sumOf,
} from '@conveyor/stack/testing';
import { status } from '@grpc/grpc-js';
import pg from 'pg';
import { type AdminCli, adminCli } from '../../packages/cli/src/cli-process.ts';

interface Order {
  id: string;
  status: string;
  version: number;
}

/**
 * Issue 24 across the whole system, with two replicas of orders and of notifications: the
 * order.paid of one order keeps failing in both consumers (the read model's row and the
 * notification row refuse it, as a bad deploy or a broken constraint would). Its order.shipped
 * waits, parked, while other orders flow; the CLI shows both sequences; after the fault is
 * fixed, a redrive applies paid then shipped (read model and mails); a discard drops the head
 * and applies what waited; a pause holds notifications' releases until it is resumed, and a
 * `dlq purge` of its dead head releases what waited behind it.
 */
describe('sequenced dead letters across the system (processes, two replicas each)', () => {
  let system: System;
  let admin: SignedIn;
  let orders: ReturnType<typeof independentClient>;
  let db: pg.Pool;
  let operator: AdminCli;

  before(async () => {
    const fast = { PROJECTION_MAX_DELIVER: '3', PROJECTION_BACKOFF_MS: '50' };
    system = await startSystem({
      name: 'e2e_sequences',
      services: ['users', 'orders', 'notifications'],
      replicas: { orders: 2, notifications: 2 },
      env: { orders: fast, notifications: { CONSUMER_MAX_DELIVER: '3', CONSUMER_BACKOFF_MS: '50' } },
    });
    admin = await signInAdmin(system.address('users'));
    orders = independentClient(
      'conveyor/orders/v1/orders.proto',
      'conveyor.orders.v1.OrderService',
      system.address('orders'),
    );
    db = new pg.Pool({ connectionString: system.databaseUrl, max: 4 });
    operator = await adminCli(system, ['users', 'orders', 'notifications']);
  });

  after(async () => {
    orders?.close();
    await db?.end();
    await system?.stop();
    await operator?.close();
  });

  const customer = () =>
    signUp(system.address('users'), { email: `seq-${randomUUID().slice(0, 8)}@example.com`, name: 'Seq' });
  const place = async (user: SignedIn) =>
    (
      await callAs<{ order: Order }>(user, orders, 'PlaceOrder', {
        items: [{ sku: 'MUG-001', quantity: 1 }],
        idempotency_key: randomUUID(),
      })
    ).order;
  const pay = (user: SignedIn, id: string) => callAs(user, orders, 'PayOrder', { order_id: id });
  const ship = (id: string) =>
    callAs(admin, orders, 'ShipOrder', { order_id: id, carrier: 'DHL', tracking_number: 'JD0146' });
  const readModel = async (user: SignedIn, id: string) =>
    (await callAs<{ order: Order }>(user, orders, 'GetOrder', { order_id: id })).order;
  const mails = (user: SignedIn) =>
    system.smtp
      .messages()
      .filter((m) => m.to.includes(user.email))
      .map((m) => m.subject);

  /** order.paid of this order fails in both consumers until `heal` is called. */
  async function poison(user: SignedIn, orderId: string) {
    const tag = `poison_${orderId.replaceAll('-', '')}`;
    await db.query(`
      create function orders.${tag}() returns trigger language plpgsql as $$
      begin raise exception 'read model refuses order %', new.order_id; end $$;
      create trigger ${tag} before insert or update on orders.order_summaries for each row
        when (new.order_id = '${orderId}' and new.status = 'paid') execute function orders.${tag}();
      create function notifications.${tag}() returns trigger language plpgsql as $$
      begin raise exception 'notification log refuses payment mails of %', new.user_id; end $$;
      create trigger ${tag} before insert on notifications.notifications for each row
        when (new.user_id = '${user.userId}' and new.event_type = 'order.paid')
        execute function notifications.${tag}();
    `);
    return async () => {
      await db.query(`
        drop trigger ${tag} on orders.order_summaries; drop function orders.${tag}();
        drop trigger ${tag} on notifications.notifications; drop function notifications.${tag}();
      `);
    };
  }

  /** Each consumer's rows for the order (orders' projections) or its user (notifications). */
  async function parked(orderId: string) {
    const { rows } = await db.query<{ schema: string; id: string; state: string; subject: string }>(
      `select 'orders' as schema, id::text, state, subject from orders.parked_messages
         where convert_from(payload, 'UTF8')::jsonb->>'orderId' = $1
       union all
       select 'notifications', id::text, state, subject from notifications.parked_messages
         where convert_from(payload, 'UTF8')::jsonb->>'orderId' = $1
       order by 1, 2`,
      [orderId],
    );
    return rows;
  }

  /** An order of `user` whose order.paid is dead in both consumers and order.shipped parked behind it. */
  async function blocked(user: SignedIn) {
    const order = await place(user);
    assert.ok(order.id);
    await system.smtp.waitFor((m) => m.to.includes(user.email) && /confirmed/.test(m.subject), {
      timeoutMs: 10_000,
    });
    const heal = await poison(user, order.id);
    await pay(user, order.id);
    await waitUntil(async () => (await parked(order.id)).filter((r) => r.state === 'dead').length === 2, {
      timeoutMs: 15_000,
      message: 'order.paid dead in both consumers',
    });
    await ship(order.id);
    await waitUntil(async () => (await parked(order.id)).filter((r) => r.state === 'parked').length === 2, {
      timeoutMs: 10_000,
      message: 'order.shipped parked in both consumers',
    });
    return { order, heal };
  }

  it('parks order.shipped behind a failing order.paid while other orders flow; redrive applies both, in order', async () => {
    const victim = await customer();
    const { order, heal } = await blocked(victim);

    // Another customer's order goes all the way meanwhile.
    const other = await customer();
    const flowing = await place(other);
    await pay(other, flowing.id);
    await ship(flowing.id);
    await waitUntil(async () => (await readModel(other, flowing.id)).status === 'ORDER_STATUS_SHIPPED', {
      timeoutMs: 10_000,
      message: 'another order flows',
    });
    await system.smtp.waitFor((m) => m.to.includes(other.email) && /shipped/.test(m.subject), {
      timeoutMs: 10_000,
    });

    // The victim's order stays as it was before the failing event, and no later mail overtook it.
    assert.equal((await readModel(victim, order.id)).status, 'ORDER_STATUS_PLACED');
    assert.ok(!mails(victim).some((s) => /shipped|Payment/.test(s)), mails(victim).join(', '));

    // Both consumers' metrics count a dead head and a parked event (any replica answers).
    for (const service of ['orders', 'notifications'] as const) {
      const samples = await scrape((system.replicas(service)[0] as { opsPort: number }).opsPort);
      assert.ok(sumOf(samples, 'conveyor_parked_messages', { state: 'dead' }) >= 1, service);
      assert.ok(sumOf(samples, 'conveyor_parked_messages', { state: 'parked' }) >= 1, service);
    }

    // The CLI shows both sequences with one event parked behind each head.
    const list = await operator.run(['dead-letters', 'list']);
    assert.equal(list.code, 0, list.stderr);
    const rows = list.stdout.split('\n').filter((line) => line.includes(`orderId:${order.id}`));
    assert.equal(rows.length, 2, list.stdout);
    for (const row of rows) assert.match(row, /\bdead\s+order\.paid\s+1\s/);
    const ids = rows.map((row) => row.split(/\s+/)[0] as string);
    assert.deepEqual(ids.map((id) => id.split('/')[0]).sort(), ['notifications', 'orders']);
    const shown = await operator.run(['dead-letters', 'show', ids[0] as string]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /parked behind\s+1/);
    assert.match(shown.stdout, /order\.shipped/);

    await heal();
    for (const id of ids) {
      const redriven = await operator.run(['dead-letters', 'redrive', id]);
      assert.equal(redriven.code, 0, redriven.stderr);
      assert.match(redriven.stdout, /2 event\(s\) applied in order/);
    }
    const projected = await readModel(victim, order.id);
    assert.equal(projected.status, 'ORDER_STATUS_SHIPPED');
    assert.equal(projected.version, 3);
    await system.smtp.waitFor((m) => m.to.includes(victim.email) && /shipped/.test(m.subject), {
      timeoutMs: 10_000,
    });
    // Recorded in order: the payment mail's row before the shipping mail's.
    const { rows: recorded } = await db.query<{ event_type: string }>(
      `select event_type from notifications.notifications where user_id = $1 and channel = 'email'
         and event_type in ('order.paid', 'order.shipped') order by created_at, id`,
      [victim.userId],
    );
    assert.deepEqual(
      recorded.map((r) => r.event_type),
      ['order.paid', 'order.shipped'],
    );
    await system.smtp.waitFor((m) => m.to.includes(victim.email) && /Payment/.test(m.subject), {
      timeoutMs: 10_000,
    });
    assert.deepEqual(await parked(order.id), []);
    // Idempotent: the head is gone.
    const again = await operator.run(['dead-letters', 'redrive', ids[0] as string]);
    assert.equal(again.code, 2, again.stdout);
    assert.match(again.stderr, /not found/);
  });

  it('answers admins only, on both services, and bounds what it is asked', async () => {
    const stranger = await customer();
    for (const service of ['orders', 'notifications'] as const) {
      const client = independentClient(
        'conveyor/consumers/v1/consumers.proto',
        'conveyor.consumers.v1.ConsumerService',
        system.address(service),
      );
      try {
        await assert.rejects(callAs(stranger, client, 'ListDeadLetterSequences', {}), {
          code: status.PERMISSION_DENIED,
        });
        await assert.rejects(callAs(stranger, client, 'RedriveDeadLetterSequence', { id: '1' }), {
          code: status.PERMISSION_DENIED,
        });
        await assert.rejects(call(client, 'ListDeadLetterSequences', {}), { code: status.UNAUTHENTICATED });
        await assert.rejects(
          callAs(admin, client, 'GetDeadLetterSequence', { id: 'x'.repeat(5000) }),
          (error: Error) => {
            assert.equal((error as { code?: number }).code, status.INVALID_ARGUMENT);
            assert.ok(error.message.length < 300, error.message);
            return true;
          },
        );
        await assert.rejects(callAs(admin, client, 'DiscardDeadLetter', { id: '1', confirm: false }), {
          code: status.FAILED_PRECONDITION,
        });
        await assert.rejects(callAs(admin, client, 'ListDeadLetterSequences', { page_token: 'nope' }), {
          code: status.INVALID_ARGUMENT,
        });
      } finally {
        client.close();
      }
    }
  });

  it('discard drops the failing head after a confirmation and applies what waited behind it', async () => {
    const victim = await customer();
    const { order, heal } = await blocked(victim);
    const list = await operator.run(['dead-letters', 'list', '--service', 'notifications']);
    const row = list.stdout.split('\n').find((line) => line.includes(`orderId:${order.id}`));
    assert.ok(row, list.stdout);
    const id = row.split(/\s+/)[0] as string;

    const unconfirmed = await operator.run(['dead-letters', 'discard', id]);
    assert.equal(unconfirmed.code, 64, unconfirmed.stdout);
    assert.match(unconfirmed.stderr, /--yes/);

    await heal();
    const discarded = await operator.run(['dead-letters', 'discard', id, '--yes']);
    assert.equal(discarded.code, 0, discarded.stderr);
    assert.match(discarded.stdout, /discarded .*: 1 event\(s\) applied/);
    await system.smtp.waitFor((m) => m.to.includes(victim.email) && /shipped/.test(m.subject), {
      timeoutMs: 10_000,
    });
    assert.ok(!mails(victim).some((s) => /Payment/.test(s)), 'the discarded payment mail is never sent');
    // Nor recorded, so it cannot arrive later either.
    const { rows: paymentRows } = await db.query(
      `select 1 from notifications.notifications where user_id = $1 and event_type = 'order.paid'`,
      [victim.userId],
    );
    assert.equal(paymentRows.length, 0, 'no payment notification recorded for the discarded event');
    const left = await parked(order.id);
    assert.deepEqual(
      left.map((r) => [r.schema, r.state, r.subject]),
      [
        ['orders', 'dead', 'order.paid'],
        ['orders', 'parked', 'order.shipped'],
      ],
    );
  });

  it("holds notifications' sequences while its consumer is paused, and a dlq purge of a dead head releases what waited once resumed", async () => {
    const victim = await customer();
    const { order, heal } = await blocked(victim);
    await heal();
    const { rows } = await db.query<{ id: string; copy: string }>(
      `select id::text, dead_letter_seq::text as copy from notifications.parked_messages
         where state = 'dead' and convert_from(payload, 'UTF8')::jsonb->>'orderId' = $1`,
      [order.id],
    );
    const head = rows[0]!;
    const consumer = 'notifications/ORDERS/notifications';
    const paused = await operator.run(['consumers', 'pause', consumer, '--reason', 'carrier outage']);
    assert.equal(paused.code, 0, paused.stderr);
    try {
      const refused = await operator.run(['dead-letters', 'redrive', `notifications/${head.id}`]);
      assert.notEqual(refused.code, 0, refused.stdout);
      assert.match(refused.stderr, /is paused \(carrier outage\): resume it to redrive/);
      // The copy in DEADLETTERS goes, and the head with it: never applied.
      const purged = await operator.run(['dlq', 'purge', head.copy]);
      assert.equal(purged.code, 0, purged.stderr);
      assert.equal(purged.stdout.trim(), 'purged 1 dead letter(s)');
      assert.deepEqual(
        (await parked(order.id)).filter((r) => r.schema === 'notifications').map((r) => [r.state, r.subject]),
        [['parked', 'order.shipped']],
        'the head is gone; order.shipped waits for the resume',
      );
    } finally {
      const resumed = await operator.run(['consumers', 'resume', consumer]);
      assert.equal(resumed.code, 0, resumed.stderr);
    }
    await system.smtp.waitFor((m) => m.to.includes(victim.email) && /shipped/.test(m.subject), {
      timeoutMs: 15_000,
    });
    await waitUntil(async () => (await parked(order.id)).every((r) => r.schema !== 'notifications'), {
      timeoutMs: 10_000,
      message: "notifications' sequence released",
    });
    assert.ok(!mails(victim).some((s) => /Payment/.test(s)), 'the purged payment mail is never sent');
  });
});
