import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startWebhookReceiver, type WebhookReceiver } from '@conveyor/notifications/testing';
import { type CloudEvent, encodeData, toHeaders } from '@conveyor/platform';
import { type ServiceUnderTest, type System, startSystem, waitUntil } from '@conveyor/stack';
import { callAs, independentClient, publishedEvent, signInAdmin, signUp } from '@conveyor/stack/testing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';

const smtpPool = 4;
const webhookConcurrency = 4;
/**
 * What one replica can have sent and not yet settled when it is killed (ADR 0018): its deliveries
 * in hand, four SMTP sends' worth and two per webhook target (one global webhook here).
 */
const resendBoundPerKill = 4 * smtpPool + 2 * webhookConcurrency;

describe('notification effects once: mail + webhook under forced redelivery and SIGKILL of two replicas (processes)', () => {
  let system: System;
  let receiver: WebhookReceiver;
  let replicas: ServiceUnderTest[] = [];
  let nc: NatsConnection;
  let sql: pg.Pool;

  before(async () => {
    receiver = await startWebhookReceiver();
    system = await startSystem({
      name: 'e2e_effects',
      // Users signs the users up (their user.created drive the effects) and the admin in.
      services: ['users', 'notifications'],
      // Two replicas share the consumer and the delivery schedule.
      replicas: { notifications: 2 },
      env: {
        // Cheap password hashes: 150 sign-ups.
        users: { USERS_ARGON2_MEMORY_KIB: '8192', USERS_ARGON2_PASSES: '1' },
        notifications: {
          WEBHOOK_ALLOW_LOOPBACK: 'true',
          SMTP_POOL_SIZE: String(smtpPool),
          WEBHOOK_CONCURRENCY: String(webhookConcurrency),
          CONSUMER_BACKOFF_MS: '250,500,1000',
          // A killed process's unacknowledged messages, and its claimed deliveries, come back after these.
          CONSUMER_ACK_WAIT_MS: '3000',
          DELIVERY_LEASE_MS: '3000',
        },
      },
    });
    replicas = system.replicas('notifications');
    nc = await connect(system.natsOptions());
    sql = new pg.Pool({ connectionString: system.databaseUrl, max: 2 });
  });

  after(async () => {
    await nc?.close();
    await sql?.end();
    await system?.stop();
    await receiver?.close();
  });

  async function publish(event: CloudEvent, msgId: string): Promise<void> {
    const h = natsHeaders();
    for (const [k, v] of Object.entries(toHeaders(event))) if (k !== 'Nats-Msg-Id') h.set(k, v);
    await jetstream(nc).publish(event.type, encodeData(event), { msgID: msgId, headers: h });
  }

  // A kill between a server's acceptance and the settle that records it resends that send once
  // the killed replica's lease expires, with the same Message-ID or Idempotency-Key (ADR 0018), so
  // the receiver can recognise it: at most what the replica held in hand. Never a lost delivery, a
  // second record or a second id.
  it('delivers one mail and one webhook per event; resends only what a killed replica held, with the same ids', async (t) => {
    const client = independentClient(
      'conveyor/notifications/v1/notifications.proto',
      'conveyor.notifications.v1.NotificationService',
      replicas[0]!.address,
    );
    const admin = await signInAdmin(system.address('users'));
    const { secret } = await callAs<{ secret: string }>(admin, client, 'RegisterWebhook', {
      global: true,
      url: `${receiver.url}/all`,
    });
    client.close();
    receiver.setDelay(20);

    const total = 150;
    const events: CloudEvent[] = [];
    let published = 0;
    const jsm = await jetstreamManager(nc);
    const usersAddress = system.address('users');
    const publishing = (async () => {
      // Bounded: every user signs up once (users publishes its user.created v2), and every third
      // event is published again under another Nats-Msg-Id (JetStream stores both: a forced
      // redelivery of the same event).
      for (let i = 0; i < total; i++) {
        const { userId } = await signUp(usersAddress, {
          email: `effect-${i}@example.com`,
          name: `User ${i}`,
        });
        const event = await publishedEvent(jsm, { stream: 'USERS', type: 'user.created', subject: userId });
        events.push(event);
        if (i % 3 === 0) await publish(event, `${event.id}-copy`);
        published = i + 1;
      }
    })();

    const mails = () => system.smtp.messages().filter((m) => m.to[0]?.startsWith('effect-'));
    // Kill each replica mid-stream in turn, then bring it back on its ports.
    for (const [i, after] of [30, 80].entries()) {
      await waitUntil(() => mails().length >= after && receiver.delivered().length >= after, {
        timeoutMs: 20_000,
        message: `deliveries did not reach ${after}`,
      });
      await replicas[i]!.process.kill();
      t.diagnostic(`SIGKILLed replica ${i + 1} after ${published} of ${total} events were published`);
      replicas[i] = await system.restart(replicas[i]!);
    }
    await publishing;

    await waitUntil(
      () =>
        new Set(mails().map((m) => m.to[0])).size === total &&
        new Set(receiver.delivered().map((r) => r.eventId)).size === total,
      { timeoutMs: 40_000, message: 'not every event got its mail and webhook' },
    );
    // Quiescent (nothing scheduled, nothing unacknowledged): no send can still be on its way, so a
    // late duplicate would be counted below.
    await waitUntil(
      async () => {
        const { rows } = await sql.query('select count(*)::int as n from notifications.delivery_queue');
        return rows[0].n === 0;
      },
      { timeoutMs: 30_000, message: 'deliveries still scheduled' },
    );

    const mailIds = new Map<string, Set<string>>();
    for (const m of mails()) mailIds.set(m.to[0]!, (mailIds.get(m.to[0]!) ?? new Set()).add(m.messageId));
    for (const [to, ids] of mailIds) assert.equal(ids.size, 1, `${to} got ${ids.size} different mails`);
    const hookKeys = new Map<string, Set<string>>();
    for (const r of receiver.delivered()) {
      assert.ok(receiver.verify(r, secret), 'every webhook is signed with the registered secret');
      hookKeys.set(r.eventId, (hookKeys.get(r.eventId) ?? new Set()).add(r.idempotencyKey));
    }
    for (const [event, keys] of hookKeys)
      assert.equal(keys.size, 1, `${event} got ${keys.size} different keys`);

    const resentMails = mails().length - mailIds.size;
    const resentHooks = receiver.delivered().length - hookKeys.size;
    t.diagnostic(
      `${mails().length} mails and ${receiver.delivered().length} webhooks for ${total} events; ` +
        `resent with the same id: ${resentMails} mails, ${resentHooks} webhooks`,
    );
    assert.ok(
      resentMails + resentHooks <= 2 * resendBoundPerKill,
      `${resentMails + resentHooks} resends: more than two killed replicas can have held (${2 * resendBoundPerKill})`,
    );

    {
      const { rows } = await sql.query(
        `select channel, count(*)::int as n, count(distinct event_id)::int as events,
           count(*) filter (where status = 'sent')::int as sent
         from notifications.notifications where event_id::text = any($1::text[])
         group by channel order by channel`,
        [events.map((e) => e.id)],
      );
      assert.deepEqual(rows, [
        { channel: 'email', n: total, events: total, sent: total },
        { channel: 'webhook', n: total, events: total, sent: total },
      ]);
    }
  });
});
