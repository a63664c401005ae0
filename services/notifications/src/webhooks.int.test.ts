import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { notificationsV1 } from '@conveyor/contracts';
import { waitUntil } from '@conveyor/stack';
import { v7 as uuidv7 } from 'uuid';
import {
  type NotificationsHarness,
  orderPaid,
  settled,
  startHarness,
  userErased,
} from './testing/notifications-harness.ts';

const { NotificationStatus } = notificationsV1;

describe('webhooks (real Postgres, NATS, SMTP and HTTP receiver)', () => {
  let h: NotificationsHarness;

  before(async () => {
    h = await startHarness('notif_webhooks', { WEBHOOK_MAX_PER_OWNER: '3' });
  });
  after(() => h?.stop());

  const register = (request: { userId?: string; global?: boolean; url: string }) =>
    h.call(h.client.registerWebhook, {
      userId: request.userId ?? '',
      global: request.global ?? false,
      url: request.url,
    });

  const rejects = (promise: Promise<unknown>, code: number, details: RegExp) =>
    assert.rejects(promise, (e: Error & { code: number; details: string }) => {
      assert.equal(e.code, code, e.details);
      assert.match(e.details, details);
      return true;
    });

  it('registers webhooks with a server-made secret shown once, and validates what it is given', async () => {
    const userId = uuidv7();
    const { webhook, secret } = await register({ userId, url: `${h.receiver.url}/reg` });
    assert.match(secret, /^whsec_[A-Za-z0-9_-]{43}$/);
    assert.equal(webhook?.userId, userId);
    const listed = await h.call(h.client.listWebhooks, { userId, pageSize: 0, pageToken: '' });
    assert.deepEqual(
      listed.webhooks.map((w) => [w.id, w.url]),
      [[webhook?.id, `${h.receiver.url}/reg`]],
    );
    assert.doesNotMatch(JSON.stringify(listed), /whsec_/);
    // At rest it is sealed (issue 22): no row holds the secret or any part of it in the clear.
    const { rows } = await h.sql.query('select secret from webhooks where id = $1', [webhook?.id]);
    assert.match(rows[0].secret, /^v1\.dev\./);
    assert.ok(!rows[0].secret.includes(secret.slice('whsec_'.length, 20)));

    await rejects(register({ userId, url: `${h.receiver.url}/reg` }), 6, /already exists/);
    await register({ userId, url: `${h.receiver.url}/reg2` });
    await register({ userId, url: `${h.receiver.url}/reg3` });
    await rejects(register({ userId, url: `${h.receiver.url}/reg4` }), 9, /already has 3 webhooks/);
    await rejects(register({ url: 'https://hooks.example.com/in' }), 3, /^user_id: /);
    await rejects(register({ userId, global: true, url: 'https://hooks.example.com/in' }), 3, /^user_id: /);
    await rejects(
      register({ userId: 'nope', url: 'https://hooks.example.com/in' }),
      3,
      /^user_id: .*not a UUID/,
    );
    await rejects(register({ global: true, url: 'http://hooks.example.com/in' }), 3, /^url: must use https/);
    await rejects(
      register({ global: true, url: 'https://10.1.2.3/in' }),
      3,
      /^url: must not point at the internal/,
    );
    await rejects(h.call(h.client.deleteWebhook, { id: uuidv7() }), 5, /not found/);
  });

  it('posts one signed webhook per event and target beside the email, with an idempotency key', async () => {
    const global = await register({ global: true, url: `${h.receiver.url}/global` });
    const user = await h.userCreated('hooked@example.com', 'Hook');
    const userId = (user.data as { userId: string }).userId;
    const own = await register({ userId, url: `${h.receiver.url}/user-${userId}` });
    const paid = orderPaid(userId);
    await h.publish(user);
    await h.publish(paid);
    await h.publish(paid, `${paid.id}-again`); // forced redelivery of the same event

    const mine = () => h.receiver.delivered().filter((r) => [user.id, paid.id].includes(r.eventId));
    await h.receiver.waitFor(() => mine().length >= 4, 10_000, 'webhooks did not arrive');
    await waitUntil(() => settled(h), { timeoutMs: 10_000, message: 'deliveries did not settle' });
    const requests = mine();
    assert.equal(requests.length, 4, JSON.stringify(requests.map((r) => [r.path, r.eventType])));
    for (const request of requests) {
      const secret = request.path === '/global' ? global.secret : own.secret;
      assert.ok(h.receiver.verify(request, secret), `signature of ${request.path} ${request.eventType}`);
      assert.equal(request.idempotencyKey, `${request.eventId}.${request.webhookId}`);
      const body = JSON.parse(request.body);
      assert.equal(body.specversion, '1.0');
      assert.equal(body.id, request.eventId);
      assert.equal(body.type, request.eventType);
      assert.equal(body.data.userId, userId);
    }
    assert.deepEqual(
      new Set(requests.map((r) => `${r.path} ${r.eventType}`)),
      new Set([
        '/global user.created',
        '/global order.paid',
        `/user-${userId} user.created`,
        `/user-${userId} order.paid`,
      ]),
    );
    assert.equal(h.smtp.messages().filter((m) => m.to.includes('hooked@example.com')).length, 2);

    const page = await h.call(h.client.listNotifications, { userId, pageSize: 0, pageToken: '' });
    assert.equal(page.notifications.length, 6);
    const hooks = page.notifications.filter((n) => n.channel === 'webhook');
    assert.equal(hooks.length, 4);
    for (const n of hooks) {
      assert.equal(n.status, NotificationStatus.NOTIFICATION_STATUS_SENT);
      assert.ok([global.webhook?.id, own.webhook?.id].includes(n.webhookId));
      assert.match(n.recipient, /^http:\/\/127\.0\.0\.1:\d+\/(global|user-)/);
      assert.equal(n.attempts, 1);
      assert.ok(n.lastAttemptAt);
    }
    await h.call(h.client.deleteWebhook, { id: global.webhook?.id ?? '' });
  });

  it('dead-letters a permanently refused webhook at once, and a redrive after the fix delivers it once', async () => {
    const user = await h.userCreated('refused@example.com');
    const userId = (user.data as { userId: string }).userId;
    const { webhook } = await register({ userId, url: `${h.receiver.url}/gone-${userId}` });
    h.receiver.respondWith((path) => (path.startsWith('/gone-') ? 410 : 204));
    await h.publish(user);

    const reason = `webhook ${webhook?.id}`;
    let id = '';
    await waitUntil(
      async () => {
        const page = await h.call(h.client.listDeadLetters, {
          filter: { subject: 'user.created', reasonContains: reason },
          pageSize: 0,
          pageToken: '',
        });
        id = page.deadLetters[0]?.id ?? '';
        return id !== '';
      },
      { timeoutMs: 10_000, message: 'no dead letter for the refused webhook' },
    );
    const { deadLetter } = await h.call(h.client.getDeadLetter, { id });
    assert.match(
      deadLetter?.reason ?? '',
      /^gave up: webhook .* after 1 attempt\(s\): webhook: answered 410/,
    );
    assert.equal(deadLetter?.attempts, 1);
    assert.equal(deadLetter?.eventId, user.id);
    assert.equal(deadLetter?.headers['ce-type'], 'user.created');
    // The delivery's dead letter names it by ids; the event itself was recorded and acknowledged.
    const payload = JSON.parse(Buffer.from(deadLetter?.payload ?? []).toString());
    assert.deepEqual(
      [payload.eventId, payload.channel, payload.webhookId],
      [user.id, 'webhook', webhook?.id],
    );
    assert.equal(deadLetter?.headers['Conveyor-Notification-Id'], payload.notificationId);
    // The mail went out; only the webhook gave up.
    assert.equal(h.smtp.messages().filter((m) => m.to.includes('refused@example.com')).length, 1);

    h.receiver.respondWith(204);
    const selection = { id, filter: undefined, all: false };
    const results = await Promise.allSettled([
      h.call(h.client.redriveDeadLetters, { selection, limit: 0 }),
      h.call(h.client.redriveDeadLetters, { selection, limit: 0 }),
    ]);
    assert.ok(results.some((r) => r.status === 'fulfilled'));
    const delivered = () => h.receiver.delivered().filter((r) => r.path === `/gone-${userId}`);
    await h.receiver.waitFor(() => delivered().length >= 1, 10_000, 'redriven webhook did not arrive');
    await waitUntil(() => settled(h), { timeoutMs: 10_000, message: 'deliveries did not settle' });
    assert.equal(delivered().length, 1);
    assert.equal(h.smtp.messages().filter((m) => m.to.includes('refused@example.com')).length, 1);
    await rejects(h.call(h.client.getDeadLetter, { id }), 5, /not found/);
    await rejects(h.call(h.client.redriveDeadLetters, { selection, limit: 0 }), 5, /not found/);
    const { rows } = await h.sql.query(
      `select status, attempts, failures from notifications where event_id = $1 and channel = 'webhook'`,
      [user.id],
    );
    assert.deepEqual(rows, [{ status: 'sent', attempts: 2, failures: 0 }]);
  });

  it('stops posting to an erased user and to deleted webhooks', async () => {
    const user = await h.userCreated('erased-hook@example.com');
    const userId = (user.data as { userId: string }).userId;
    const { webhook } = await register({ userId, url: `${h.receiver.url}/erase-${userId}` });
    await h.publish(user);
    await h.receiver.waitFor(
      (all) => all.some((r) => r.path === `/erase-${userId}`),
      10_000,
      'first webhook did not arrive',
    );
    await h.publish(userErased(userId));
    await waitUntil(() => settled(h), { timeoutMs: 10_000, message: 'erasure not handled' });
    await h.publish(orderPaid(userId));
    await waitUntil(() => settled(h), { timeoutMs: 10_000, message: 'deliveries did not settle' });
    assert.equal(h.receiver.received().filter((r) => r.path === `/erase-${userId}`).length, 1);
    const listed = await h.call(h.client.listWebhooks, { userId, pageSize: 0, pageToken: '' });
    assert.equal(listed.webhooks.length, 0, 'the erased user keeps no webhook');
    await rejects(h.call(h.client.deleteWebhook, { id: webhook?.id ?? '' }), 5, /not found/);
    const { rows } = await h.sql.query(
      `select distinct recipient from notifications where user_id = $1 and event_type <> 'user.erased'`,
      [userId],
    );
    assert.deepEqual(rows, [{ recipient: '[erased]' }]);
  });
});
