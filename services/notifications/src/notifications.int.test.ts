import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { notificationsV1 } from '@conveyor/contracts';
import { callUnary, DeadLetterHeaders, newEvent, toHeaders } from '@conveyor/platform';
import { type SmtpSink, waitUntil } from '@conveyor/stack';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import type { NatsConnection } from '@nats-io/transport-node';
import type pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import {
  type NotificationsHarness,
  orderPaid,
  plaintextUserCreated,
  settled,
  startHarness,
  type TokenIssuer,
} from './testing/notifications-harness.ts';

describe('notifications service (real Postgres, NATS and SMTP)', () => {
  let h: NotificationsHarness;
  let smtp: SmtpSink;
  let nc: NatsConnection;
  let sql: pg.Pool;
  let client: notificationsV1.NotificationServiceClient;
  let users: TokenIssuer;
  let publish: NotificationsHarness['publish'];

  before(async () => {
    h = await startHarness('notifications');
    ({ smtp, nc, sql, client, users, publish } = h);
  });

  after(async () => {
    await h?.stop();
  });

  // A real user.created v2 from users (sealed contact details, revealed through users).
  const userCreated = (email: string, name?: string) => h.userCreated(email, name);

  const mailsFor = (email: string) => smtp.messages().filter((m) => m.to.includes(email));
  /** The newest dead letter of user.created, once it is the one of `eventId`. */
  const deadLetterOf = async (eventId: string) => {
    const jsm = await jetstreamManager(nc);
    const newest = () =>
      jsm.streams
        .getMessage('DEADLETTERS', { last_by_subj: 'deadletter.notifications.user.created' })
        .catch(() => undefined);
    await waitUntil(async () => (await newest())?.header.get('ce-id') === eventId, {
      timeoutMs: 5000,
      message: `user.created ${eventId} was not dead-lettered`,
    });
    return newest();
  };

  it('sends one welcome mail whose Message-ID derives from the event id', async () => {
    const event = await userCreated('welcome@example.com', 'Wendy');
    await publish(event);
    const [mail] = await smtp.waitFor((m) => m.to.includes('welcome@example.com'), { timeoutMs: 5000 });
    assert.ok(mail);
    assert.equal(mail.subject, 'Welcome to Conveyor');
    assert.equal(mail.messageId, `<${event.id}.email@conveyor.local>`);
    assert.match(mail.text, /Hello Wendy,/);
    await waitUntil(
      async () =>
        (await sql.query(`select 1 from notifications where event_id = $1 and status = 'sent'`, [event.id]))
          .rowCount === 1,
      { timeoutMs: 3000, message: 'notification not marked sent' },
    );
  });

  it('never records or sends a second notification when the same event is delivered again', async () => {
    const event = await userCreated('twice@example.com');
    await publish(event);
    await publish(event, `${event.id}-again`);
    await publish(event, `${event.id}-third`);
    await smtp.waitFor((m) => m.to.includes('twice@example.com'), { timeoutMs: 5000 });
    const jsm = await jetstreamManager(nc);
    await waitUntil(async () => (await jsm.consumers.info('USERS', 'notifications')).num_pending === 0, {
      timeoutMs: 5000,
      message: 'consumer did not catch up',
    });
    await waitUntil(async () => (await jsm.consumers.info('USERS', 'notifications')).num_ack_pending === 0, {
      timeoutMs: 5000,
      message: 'deliveries were not acknowledged',
    });
    assert.equal(mailsFor('twice@example.com').length, 1);
    const { rows } = await sql.query('select count(*)::int as n from notifications where event_id = $1', [
      event.id,
    ]);
    assert.equal(rows[0].n, 1);
  });

  it("refuses a second user.created that would rewrite a known user's address (issue 22: forged events)", async () => {
    const owner = await userCreated('owner-address@example.com', 'Owner');
    await publish(owner);
    await smtp.waitFor((m) => m.to.includes('owner-address@example.com'), { timeoutMs: 5000 });
    const userId = (owner.data as { userId: string }).userId;
    // What a forger would send (issue 22): same user, an address of their choosing, in plaintext.
    const forged = plaintextUserCreated('thief@example.com', 'Owner', userId);
    await publish(forged);
    const dead = await deadLetterOf(forged.id);
    assert.match(dead?.header.get(DeadLetterHeaders.reason) ?? '', /user\.created v1 is retired/);
    const { rows } = await sql.query('select email from recipients where user_id = $1', [userId]);
    assert.deepEqual(rows, [{ email: 'owner-address@example.com' }]);
    // The owner's own event again (a replay under another id) changes nothing and sends nothing;
    // the owner's next mail still goes to the owner.
    await publish(owner, `${owner.id}-replay`);
    await publish(orderPaid(userId));
    await waitUntil(() => settled(h), { timeoutMs: 10_000, message: 'notifications did not settle' });
    assert.equal(mailsFor('thief@example.com').length, 0);
    const mails = mailsFor('owner-address@example.com').map((m) => m.subject);
    assert.equal(mails.length, 2, `one welcome, one payment mail: ${mails}`);
    assert.equal(mails.filter((s) => s === 'Welcome to Conveyor').length, 1);
  });

  it('dead-letters user.created v1, whose plaintext contact details only a forger sends now (issue 22)', async () => {
    // users publishes v2 (sealed) only; a v1 naming a user notifications has not seen would
    // otherwise set where that user's mail goes.
    const forged = plaintextUserCreated('forged-v1@example.com', 'Nobody');
    await publish(forged);
    const dead = await deadLetterOf(forged.id);
    assert.match(dead?.header.get(DeadLetterHeaders.reason) ?? '', /^poison: user\.created v1 is retired/);
    const userId = (forged.data as { userId: string }).userId;
    assert.equal((await sql.query('select 1 from recipients where user_id = $1', [userId])).rowCount, 0);
    assert.equal(mailsFor('forged-v1@example.com').length, 0);
  });

  it('dead-letters a poison message with its reason and keeps delivering the ones after it', async () => {
    const h = natsHeaders();
    const bad = await userCreated('poison@example.com');
    for (const [k, v] of Object.entries(toHeaders(bad))) if (k !== 'Nats-Msg-Id') h.set(k, v);
    await jetstream(nc).publish('user.created', new TextEncoder().encode('{"userId": 42}'), { headers: h });
    const good = await userCreated('after-poison@example.com');
    await publish(good);

    await smtp.waitFor((m) => m.to.includes('after-poison@example.com'), { timeoutMs: 5000 });
    const jsm = await jetstreamManager(nc);
    await waitUntil(async () => (await jsm.streams.info('DEADLETTERS')).state.messages >= 1, {
      timeoutMs: 5000,
      message: 'no dead letter',
    });
    const dead = await jsm.streams.getMessage('DEADLETTERS', {
      last_by_subj: 'deadletter.notifications.user.created',
    });
    assert.ok(dead);
    assert.match(dead.header.get(DeadLetterHeaders.reason), /^poison: data does not match user.created v2/);
    assert.equal(dead.header.get(DeadLetterHeaders.deliveries), '1');
    assert.equal(dead.header.get('ce-id'), bad.id);
    assert.equal(new TextDecoder().decode(dead.data), '{"userId": 42}');
    assert.equal(mailsFor('poison@example.com').length, 0);
  });

  it('retries while the mail server refuses, then delivers once', async () => {
    smtp.setAvailable(false);
    const event = await userCreated('retry@example.com');
    await publish(event);
    await waitUntil(
      async () =>
        (
          await sql.query('select attempts from notifications where event_id = $1 and attempts >= 1', [
            event.id,
          ])
        ).rowCount === 1,
      { timeoutMs: 5000, message: 'no failed attempt recorded' },
    );
    smtp.setAvailable(true);
    await smtp.waitFor((m) => m.to.includes('retry@example.com'), { timeoutMs: 5000 });
    await waitUntil(
      async () =>
        (await sql.query(`select 1 from notifications where event_id = $1 and status = 'sent'`, [event.id]))
          .rowCount === 1,
      { timeoutMs: 3000, message: 'notification not marked sent' },
    );
    const { rows } = await sql.query('select status, attempts from notifications where event_id = $1', [
      event.id,
    ]);
    assert.equal(rows[0].status, 'sent');
    assert.ok(rows[0].attempts >= 2);
    assert.equal(mailsFor('retry@example.com').length, 1);
  });

  it('notifies a known user about order events and lists notifications over gRPC, newest first', async () => {
    const user = await userCreated('orders@example.com', 'Olga');
    await publish(user);
    const userId = (user.data as { userId: string }).userId;
    const orderId = uuidv7();
    const placed = newEvent(
      'order.created',
      {
        orderId,
        userId,
        items: [{ sku: 'MUG-001', quantity: 2, unitPrice: { amountMinor: 1250, currency: 'EUR' } }],
        total: { amountMinor: 2500, currency: 'EUR' },
        placedAt: new Date().toISOString(),
      },
      { source: 'conveyor/orders', subject: orderId },
    );
    await publish(placed);
    const [mail] = await smtp.waitFor(
      (m) => m.to.includes('orders@example.com') && /confirmed/.test(m.subject),
      {
        timeoutMs: 5000,
      },
    );
    assert.match(mail!.text, /2 × MUG-001 at €12\.50/);

    const page = await callUnary(
      client,
      client.listNotifications,
      { userId, pageSize: 1, pageToken: '' },
      { deadlineMs: 5000, metadata: users.admin.metadata() },
    );
    assert.equal(page.notifications.length, 1);
    assert.equal(page.notifications[0]!.eventType, 'order.created');
    assert.notEqual(page.nextPageToken, '');
    const next = await callUnary(
      client,
      client.listNotifications,
      { userId, pageSize: 1, pageToken: page.nextPageToken },
      { deadlineMs: 5000, metadata: users.admin.metadata() },
    );
    assert.equal(next.notifications[0]!.eventType, 'user.created');
    assert.equal(next.notifications[0]!.status, notificationsV1.NotificationStatus.NOTIFICATION_STATUS_SENT);
  });

  it('answers INVALID_ARGUMENT for bad list arguments', async () => {
    for (const [request, field] of [
      [{ userId: 'x', pageSize: 0, pageToken: '' }, 'user_id'],
      [{ userId: '', pageSize: 501, pageToken: '' }, 'page_size'],
      [{ userId: '', pageSize: 0, pageToken: 'garbage' }, 'page_token'],
    ] as const) {
      await assert.rejects(
        callUnary(client, client.listNotifications, request, {
          deadlineMs: 5000,
          metadata: users.admin.metadata(),
        }),
        (e: Error & { details: string }) => e.details.startsWith(`${field}: `),
      );
    }
  });
});
