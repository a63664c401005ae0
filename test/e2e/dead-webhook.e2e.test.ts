import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ordersV1 } from '@conveyor/contracts';
import { startWebhookReceiver, type WebhookReceiver } from '@conveyor/notifications/testing';
import { callUnary, insecure } from '@conveyor/platform';
import { freePort, type MailSink, type System, startMailSink, startSystem, waitUntil } from '@conveyor/stack';
import { callAs, independentClient, type SignedIn, signInAdmin, signUp } from '@conveyor/stack/testing';
import pg from 'pg';

const orders = 1000;
const rate = 100; // orders/s, below what this machine sustains with other tests running beside

/**
 * Issue 16: one dead third-party endpoint must not stop anyone's mail. A global webhook whose
 * receiver refuses connections gets every order event; the confirmation mails keep their latency,
 * and when the receiver comes back every webhook delivery arrives, once.
 */
describe('a dead webhook is a bulkhead, not an outage (processes)', () => {
  let system: System;
  // The counting sink: a process of its own that reads only Message-IDs, so timing mails does not
  // depend on how fast this test process can parse them while other tests share the machine.
  let smtp: MailSink;
  let receiver: WebhookReceiver | undefined;
  let sql: pg.Pool;

  before(async () => {
    smtp = await startMailSink();
    system = await startSystem({
      name: 'e2e_dead_webhook',
      services: ['users', 'orders', 'notifications'],
      // The system's own sink is in this process; mail goes to the counting sink instead.
      infra: { smtpUrl: `smtp://127.0.0.1:${smtp.port}?tls=off` },
      env: {
        notifications: {
          WEBHOOK_ALLOW_LOOPBACK: 'true',
          // Trials soon after the receiver is back, so the test does not wait for the default 10 s.
          BREAKER_HALF_OPEN_MS: '1000',
        },
      },
    });
    sql = new pg.Pool({ connectionString: system.databaseUrl, max: 2 });
  });

  after(async () => {
    await sql?.end();
    await system?.stop();
    await receiver?.close();
    await smtp?.stop();
  });

  /** Places `orders` orders at `rate`/s (open loop) and waits for every confirmation; the mail p99 in ms. */
  async function placeAndMail(
    customers: SignedIn[],
    count = orders,
    perSecond = rate,
  ): Promise<{ ids: string[]; p99: number }> {
    const client = new ordersV1.OrderServiceClient(system.address('orders'), insecure());
    const intended = new Map<string, number>();
    const started = Date.now();
    const calls: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      // perSecond 0: one after the other.
      if (perSecond === 0 && calls.length > 0) await calls.at(-1);
      const at = perSecond === 0 ? Date.now() : started + (i * 1000) / perSecond;
      const wait = at - Date.now();
      if (wait > 1) await sleep(wait); // open-loop schedule: this call's send time, not a wait for anything
      calls.push(
        callUnary(
          client,
          client.placeOrder,
          {
            userId: '',
            items: [{ sku: 'MUG-001', quantity: 1 }],
            idempotencyKey: `dead-webhook-${started}-${i}`,
          },
          { deadlineMs: 10_000, metadata: customers[i % customers.length]!.metadata() },
        ).then(({ order }) => {
          intended.set(order!.id, at);
        }),
      );
    }
    const results = await Promise.allSettled(calls);
    const refused = results.filter((r) => r.status === 'rejected');
    assert.equal(
      refused.length,
      0,
      `${refused.length} orders refused: ${String((refused[0] as PromiseRejectedResult | undefined)?.reason)}`,
    );
    const { rows } = await sql.query<{ order_id: string; event_id: string }>(
      `select substr(stream_id, 7) as order_id, event_id::text from orders.events
        where version = 1 and stream_id = any(select 'order-' || unnest($1::text[]))`,
      [[...intended.keys()]],
    );
    // The sink keys mails by Message-ID up to '@': `<event id>.email`.
    const keys = rows.map((r) => `${r.event_id}.email`);
    let seen: (number | null)[] = [];
    await waitUntil(
      async () => {
        seen = await smtp.firstSeen(keys);
        return seen.every((t) => t !== null);
      },
      {
        timeoutMs: 60_000,
        intervalMs: 200,
        message: `not every one of ${count} orders got its confirmation mail within 60 s`,
      },
    );
    const lags = seen.map((t, i) => t! - intended.get(rows[i]!.order_id)!).sort((a, b) => a - b);
    client.close();
    return { ids: [...intended.keys()], p99: Math.round(lags[Math.ceil(lags.length * 0.99) - 1]!) };
  }

  it('keeps every customer mail flowing while a global webhook is refused, then delivers each webhook once', async (t) => {
    const usersAddr = system.address('users');
    const customers = await Promise.all([0, 1, 2, 3, 4].map(() => signUp(usersAddr)));
    // Warm up, one order at a time first (token verdicts cached, pools open: a cold start would
    // pile the first calls up past the admission limit), then at the test's rate (JIT, including
    // this process's SMTP sink, which parses every mail: cold, it made the first phase's p99 ~1.5 s).
    await placeAndMail(customers, 50, 0);
    await placeAndMail(customers, 300, rate);
    const healthy = await placeAndMail(customers);
    t.diagnostic(`without a webhook: place → mail p99 ${healthy.p99} ms`);

    // Nothing listens on the webhook's port: every POST is refused at once.
    const port = await freePort();
    const admin = await signInAdmin(usersAddr);
    const client = independentClient(
      'conveyor/notifications/v1/notifications.proto',
      'conveyor.notifications.v1.NotificationService',
      system.address('notifications'),
    );
    const { webhook, secret } = await callAs<{ webhook: { id: string }; secret: string }>(
      admin,
      client,
      'RegisterWebhook',
      { global: true, url: `http://127.0.0.1:${port}/hooks` },
    );
    client.close();
    const dead = await placeAndMail(customers);
    t.diagnostic(`with the global webhook refused: place → mail p99 ${dead.p99} ms`);
    // Against the same run's figure. A shared outage (the code before ADR 0018) stopped mail
    // altogether, and a dead target sharing the senders costs its connect timeouts (seconds); the
    // slack (2× + 250 ms) is the jitter of a 2-core CI machine running other e2e files beside this
    // one, where 1.5× + 50 ms failed with 303 ms against 130 ms.
    assert.ok(
      dead.p99 <= 2 * healthy.p99 + 250,
      `mail p99 ${dead.p99} ms with a dead webhook vs ${healthy.p99} ms without`,
    );

    receiver = await startWebhookReceiver({ port });
    const { rows } = await sql.query<{ event_id: string }>(
      `select event_id::text from orders.events
        where version = 1 and stream_id = any(select 'order-' || unnest($1::text[]))`,
      [dead.ids],
    );
    const expected = new Set(rows.map((r) => r.event_id));
    await waitUntil(
      () =>
        expected.size ===
        new Set(
          receiver!
            .delivered()
            .filter((r) => expected.has(r.eventId))
            .map((r) => r.eventId),
        ).size,
      {
        timeoutMs: 60_000,
        intervalMs: 200,
        message: 'not every webhook arrived after the receiver came back',
      },
    );
    // Quiescent: nothing pending any more, so no send can still be on its way (a late duplicate shows).
    await waitUntil(
      async () =>
        (await sql.query(`select 1 from notifications.notifications where status = 'pending' limit 1`))
          .rowCount === 0,
      { timeoutMs: 30_000, intervalMs: 200, message: 'deliveries still pending' },
    );
    const hooks = receiver.delivered().filter((r) => expected.has(r.eventId));
    const keys = new Map<string, number>();
    for (const r of hooks) {
      assert.equal(r.idempotencyKey, `${r.eventId}.${webhook.id}`);
      assert.ok(receiver.verify(r, secret), 'signed with the registered secret');
      keys.set(r.idempotencyKey, (keys.get(r.idempotencyKey) ?? 0) + 1);
    }
    const repeated = [...keys.values()].filter((n) => n > 1).length;
    t.diagnostic(`${hooks.length} webhook requests for ${expected.size} events; ${repeated} keys repeated`);
    assert.equal(keys.size, orders);
    assert.equal((await smtp.count()).duplicates, 0, 'every mail once');
    assert.equal(repeated, 0, 'a refused connection cannot have delivered anything, so nothing repeats');
  });
});
