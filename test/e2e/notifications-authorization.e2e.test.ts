import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { notificationsV1 } from '@conveyor/contracts';
import { callUnary, insecure } from '@conveyor/platform';
import { type System, startSystem, waitUntil } from '@conveyor/stack';
import { type SignedIn, signInAdmin, signUp } from '@conveyor/stack/testing';
import { type ServiceError, status } from '@grpc/grpc-js';

/** The notification service's edge: own notifications for customers, operations for admins. */
describe('notifications authorisation at the edge (processes)', () => {
  let system: System;
  let client: notificationsV1.NotificationServiceClient;
  let alice: SignedIn;
  let bob: SignedIn;
  let admin: SignedIn;

  before(async () => {
    system = await startSystem({
      name: 'e2e_notif_auth',
      services: ['users', 'notifications'],
      env: {
        users: { USERS_ARGON2_MEMORY_KIB: '8192', USERS_ARGON2_PASSES: '1' },
        notifications: { WEBHOOK_ALLOW_LOOPBACK: 'true' },
      },
    });
    client = new notificationsV1.NotificationServiceClient(system.address('notifications'), insecure());
    const address = system.address('users');
    [alice, bob, admin] = await Promise.all([signUp(address), signUp(address), signInAdmin(address)]);
  });

  after(async () => {
    client?.close();
    await system?.stop();
  });

  const as = (who: SignedIn | undefined) => ({
    deadlineMs: 5000,
    ...(who ? { metadata: who.metadata() } : {}),
  });
  const list = (who: SignedIn | undefined, userId = '') =>
    callUnary(client, client.listNotifications, { userId, pageSize: 0, pageToken: '' }, as(who));
  const refused = (call: Promise<unknown>, code: status) =>
    assert.rejects(call, (e: ServiceError) => {
      assert.equal(e.code, code, `expected ${status[code]}, got ${status[e.code]}: ${e.details}`);
      return true;
    });

  it('shows customers their own notifications only, and admins anyone’s', async () => {
    await waitUntil(async () => (await list(alice)).notifications.length > 0, {
      timeoutMs: 15_000,
      message: 'alice’s welcome notification did not appear',
    });
    const own = await list(alice);
    assert.ok(own.notifications.every((n) => n.userId === alice.userId));
    await refused(list(alice, bob.userId), status.PERMISSION_DENIED);
    await waitUntil(async () => (await list(admin, bob.userId)).notifications.length > 0, {
      timeoutMs: 15_000,
      message: 'the admin did not see bob’s welcome notification',
    });
    const forBob = await list(admin, bob.userId);
    assert.ok(forBob.notifications.every((n) => n.userId === bob.userId));
    await refused(list(undefined), status.UNAUTHENTICATED);
  });

  it('keeps webhooks and dead letters to admins', async () => {
    const register = { userId: '', global: true, url: 'http://127.0.0.1:9/hook' };
    await refused(callUnary(client, client.registerWebhook, register, as(alice)), status.PERMISSION_DENIED);
    await refused(
      callUnary(client, client.listWebhooks, { userId: '', pageSize: 0, pageToken: '' }, as(alice)),
      status.PERMISSION_DENIED,
    );
    const dlq = { filter: undefined, pageSize: 0, pageToken: '' };
    await refused(callUnary(client, client.listDeadLetters, dlq, as(alice)), status.PERMISSION_DENIED);
    await refused(
      callUnary(
        client,
        client.purgeDeadLetters,
        { selection: { id: '', filter: undefined, all: true } },
        as(bob),
      ),
      status.PERMISSION_DENIED,
    );
    const { webhook } = await callUnary(client, client.registerWebhook, register, as(admin));
    assert.ok(webhook?.id);
    await callUnary(client, client.listDeadLetters, dlq, as(admin));
  });

  it('never shows a customer the operator’s global webhooks or their errors', async () => {
    const secretUrl = 'http://127.0.0.1:9/hooks/s3cr3t-token-for-operators';
    const { webhook } = await callUnary(
      client,
      client.registerWebhook,
      { userId: '', global: true, url: secretUrl },
      as(admin),
    );
    const carol = await signUp(system.address('users'));
    // The admin sees carol's notifications for the global webhook (delivery refused: port 9).
    await waitUntil(
      async () =>
        (await list(admin, carol.userId)).notifications.some(
          (n) => n.webhookId === webhook?.id && n.attempts > 0,
        ),
      { timeoutMs: 15_000, message: 'the global webhook was not tried for carol’s welcome' },
    );
    await waitUntil(async () => (await list(carol)).notifications.length > 0, {
      timeoutMs: 15_000,
      message: 'carol’s welcome mail did not appear',
    });
    const own = await list(carol);
    assert.deepEqual(
      own.notifications.map((n) => n.channel),
      own.notifications.map(() => 'email'),
      'a customer lists the mail sent to them, not operator webhooks',
    );
    assert.ok(!JSON.stringify(own).includes('s3cr3t'), 'the webhook URL does not reach the customer');
    await callUnary(client, client.deleteWebhook, { id: webhook?.id ?? '' }, as(admin));
  });
});
