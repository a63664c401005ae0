import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Caller } from '@conveyor/platform/core';
import { v7 as uuidv7 } from 'uuid';
import { inMemoryNotifications } from '../testing/in-memory-notification-app.ts';

// The notification use cases through buildApp on in-memory adapters: what the consumers, the
// delivery scheduler and the gRPC port call, without Postgres, NATS, SMTP or HTTP.

const admin: Caller = { subject: uuidv7(), role: 'admin' };
const customer = (subject: string): Caller => ({ subject, role: 'customer' });
const ada = { email: 'ada@example.com', name: 'Ada Lovelace' };
const failsWith = (code: string, message?: RegExp) => (error: Error & { code?: string }) => {
  assert.equal(error.code, code, error.message);
  if (message) assert.match(error.message, message);
  return true;
};

describe('notifications component (buildApp, in memory)', () => {
  const running: { stop(): Promise<void> }[] = [];
  const start = (...args: Parameters<typeof inMemoryNotifications>) => {
    const t = inMemoryNotifications(...args);
    running.push(t);
    return t;
  };
  after(() => Promise.all(running.map((t) => t.stop())));

  it('turns events into one notification per channel and target: mail, the user’s and global webhooks', async () => {
    const t = start();
    const userId = uuidv7();
    await t.app.registerWebhook(admin, { userId, global: false, url: 'http://127.0.0.1:9/mine' });
    await t.app.registerWebhook(admin, { userId: '', global: true, url: 'http://127.0.0.1:9/all' });
    assert.deepEqual(await t.deliver(t.userCreated(userId, ada)), [{ kind: 'ack' }]);
    const order = t.orderCreated(userId);
    assert.deepEqual(await t.deliver(order), [{ kind: 'ack' }]);
    await t.until(() => t.mailer.sent.length === 2 && t.webhookPoster.sent.length === 4, 'every delivery');

    assert.deepEqual(
      t.mailer.sent.map((m) => m.to),
      [ada.email, ada.email],
    );
    assert.equal(t.mailer.sent[0]?.subject, 'Welcome to Conveyor');
    assert.match(t.mailer.sent[1]?.subject ?? '', /^Order \S+ confirmed$/);
    const orderMail = t.mailer.sent[1]!;
    assert.equal(orderMail.messageId, `<${order.id}.email@conveyor.test>`);
    const posts = t.webhookPoster.sent.filter((p) => p.eventId === order.id);
    assert.deepEqual(posts.map((p) => p.url).sort(), ['http://127.0.0.1:9/all', 'http://127.0.0.1:9/mine']);
    assert.ok(
      posts.every((p) => p.idempotencyKey === `${order.id}.${p.webhookId}` && p.secret.startsWith('whsec_')),
    );
    assert.equal(JSON.parse(posts[0]!.body).type, 'order.created');
    await t.until(() => t.tables.notifications.every((n) => n.status === 'sent'), 'all settled as sent');

    // A customer sees the mail to them and their own webhook, not the operator's global one.
    const own = await t.app.listNotifications(customer(userId), { userId: '', pageSize: 0, pageToken: '' });
    assert.deepEqual(own.items.map((n) => n.recipient).sort(), [
      ada.email,
      ada.email,
      'http://127.0.0.1:9/mine',
      'http://127.0.0.1:9/mine',
    ]);
    const all = await t.app.listNotifications(admin, { userId, pageSize: 0, pageToken: '' });
    assert.equal(all.items.length, 6);
    await assert.rejects(
      t.app.listNotifications(customer(uuidv7()), { userId, pageSize: 0, pageToken: '' }),
      failsWith('PERMISSION_DENIED', /customers can only list their own notifications/),
    );
  });

  it('handles a duplicate event once, in one batch or redelivered later', async () => {
    const t = start();
    const userId = uuidv7();
    await t.deliver(t.userCreated(userId, ada));
    const order = t.orderCreated(userId);
    await t.deliver(order, order);
    await t.deliver(order);
    // A later order's mail arrives after anything the duplicates could have sent.
    const marker = t.orderCreated(userId);
    await t.deliver(marker);
    await t.until(() => t.mailer.sent.some((m) => m.messageId.includes(marker.id)), 'the later order’s mail');
    assert.equal(t.mailer.sent.filter((m) => m.messageId.includes(order.id)).length, 1);
    assert.equal(t.tables.notifications.filter((n) => n.eventId === order.id).length, 1);
  });

  it('waits for a user it does not know yet, and refuses a second user.created with other details', async () => {
    const t = start();
    const userId = uuidv7();
    const [early] = await t.deliver(t.orderCreated(userId));
    assert.equal(early?.kind, 'retry');
    await t.deliver(t.userCreated(userId, ada));
    // Poison: the consumer dead-letters it (a throw fails the batch; each message is then handled alone).
    await assert.rejects(
      t.deliver(t.userCreated(userId, { email: 'mallory@example.com', name: 'Ada Lovelace' })),
      { name: 'PoisonMessageError', message: /known user with other contact details/ },
    );
    await t.until(() => t.mailer.sent.length === 1, 'the welcome mail');
    assert.deepEqual(
      t.mailer.sent.map((m) => m.to),
      [ada.email],
    );
  });

  it('retries a failed mail after its backoff step, then gives up into a dead letter an admin redrives', async () => {
    const t = start();
    const userId = uuidv7();
    t.mailer.failNext(4); // the welcome mail's three attempts, then the order's first
    await t.deliver(t.userCreated(userId, ada));
    const welcome = () => t.tables.notifications.find((n) => n.eventType === 'user.created')!;
    await t.until(() => welcome().attempts === 1, 'the first attempt');
    assert.deepEqual([welcome().status, welcome().lastError], ['pending', '451 try again later']);
    t.clock.advance(999);
    t.app.delivery.wake();
    t.clock.advance(1);
    await t.until(() => welcome().attempts === 2, 'the retry after 1 s');
    t.clock.advance(5000);
    await t.until(() => welcome().status === 'failed', 'giving up after 3 attempts');
    assert.equal(welcome().failures, 3);
    const [letter] = t.deadLetters.all;
    assert.equal(letter?.notificationId, welcome().id);
    assert.match(letter?.reason ?? '', /^gave up: email .* after 3 attempt\(s\): 451 try again later/);

    // Transient failures count; a success after one clears the error.
    const order = t.orderCreated(userId);
    await t.deliver(order);
    await t.until(
      () => t.tables.notifications.some((n) => n.eventId === order.id && n.attempts === 1),
      'order try',
    );
    t.clock.advance(1000);
    await t.until(() => t.mailer.sent.length === 1, 'the order mail on its second attempt');

    await assert.rejects(
      t.app.redriveDeadLetters(customer(userId), { id: letter!.id, filter: {}, all: false, limit: 0 }),
      failsWith('PERMISSION_DENIED', /admin role/),
    );
    const listed = await t.app.listDeadLetters(admin, { filter: {}, pageSize: 0, pageToken: '' });
    assert.deepEqual(
      listed.items.map((d) => d.id),
      [letter!.id],
    );
    const redriven = await t.app.redriveDeadLetters(admin, {
      id: letter!.id,
      filter: {},
      all: false,
      limit: 0,
    });
    assert.deepEqual(redriven, { redriven: [letter!.id], more: false });
    await t.until(() => welcome().status === 'sent', 'the redriven welcome mail');
    assert.equal(welcome().attempts, 4, 'attempts keep counting; the budget was reset');
    assert.deepEqual(t.deadLetters.all, []);
  });

  it('dead-letters a permanently refused delivery at once', async () => {
    const t = start();
    const userId = uuidv7();
    t.mailer.failNext(1, true);
    await t.deliver(t.userCreated(userId, ada));
    await t.until(() => t.tables.notifications[0]?.status === 'failed', 'giving up');
    assert.equal(t.deadLetters.all.length, 1);
    const [n] = t.tables.notifications;
    assert.deepEqual([n?.status, n?.attempts, n?.lastError], ['failed', 1, '550 refused']);
  });

  it('forgets an erased user: pending deliveries cancelled, content blanked, later events contact no one', async () => {
    const t = start();
    const userId = uuidv7();
    const hook = await t.app.registerWebhook(admin, {
      userId,
      global: false,
      url: 'http://127.0.0.1:9/hook',
    });
    t.app.delivery.stop(); // nothing is sent while the erasure comes in
    await t.deliver(t.userCreated(userId, ada));
    await t.deliver(t.userErased(userId));
    assert.deepEqual(
      t.tables.notifications.map((n) => [n.status, n.recipient, n.lastError]),
      [
        ['cancelled', '[erased]', 'user erased'],
        ['cancelled', '[erased]', 'user erased'],
      ],
    );
    assert.equal(t.tables.scheduled, 0);
    assert.deepEqual(await t.deliver(t.orderCreated(userId)), [{ kind: 'ack' }]);
    assert.equal(t.tables.notifications.length, 2, 'nothing recorded for the erased user');
    assert.deepEqual((await t.app.listWebhooks(admin, { userId, pageSize: 0, pageToken: '' })).items, []);
    await assert.rejects(t.app.deleteWebhook(admin, hook.webhook.id), failsWith('NOT_FOUND'));
  });

  it('keeps webhooks to admins, validates them, and cancels a deleted one’s pending deliveries', async () => {
    const t = start();
    const userId = uuidv7();
    await assert.rejects(
      t.app.registerWebhook(customer(userId), { userId, global: false, url: 'http://127.0.0.1:9/x' }),
      failsWith('PERMISSION_DENIED'),
    );
    await assert.rejects(
      t.app.registerWebhook(admin, { userId, global: true, url: 'http://127.0.0.1:9/x' }),
      failsWith('INVALID_ARGUMENT', /^user_id: /),
    );
    await assert.rejects(
      t.app.registerWebhook(admin, { userId, global: false, url: 'ftp://example.com' }),
      failsWith('INVALID_ARGUMENT', /^url: /),
    );
    const { webhook, secret } = await t.app.registerWebhook(admin, {
      userId,
      global: false,
      url: 'http://127.0.0.1:9/x',
    });
    assert.ok(secret.startsWith('whsec_'));
    await assert.rejects(
      t.app.registerWebhook(admin, { userId, global: false, url: 'http://127.0.0.1:9/x' }),
      failsWith('ALREADY_EXISTS'),
    );
    t.app.delivery.stop();
    await t.deliver(t.userCreated(userId, ada));
    assert.deepEqual(await t.app.deleteWebhook(admin, webhook.id), { cancelled: 1 });
    assert.deepEqual(t.tables.notifications.map((n) => [n.channel, n.status]).sort(), [
      ['email', 'pending'],
      ['webhook', 'cancelled'],
    ]);
  });
});
