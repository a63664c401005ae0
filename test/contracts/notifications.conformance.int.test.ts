import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from '@conveyor/stack';
import { rejectsWithCode, timestampMs } from '@conveyor/stack/testing';
import { status } from '@grpc/grpc-js';
import { type ContractSystem, type Customer, rpc, startContractSystem } from './contract-system.ts';

interface Notification {
  user_id: string;
  event_type: string;
  channel: string;
  recipient: string;
  status: string;
  attempts: number;
  created_at: never;
  sent_at: never;
}

// The NotificationService contract of proto/conveyor/notifications/v1/notifications.proto.
describe('NotificationService conformance (independent client)', () => {
  let system: ContractSystem;
  let admin: Customer;
  before(async () => {
    system = await startContractSystem('contracts_notifications');
    admin = await system.signInAdmin();
  });
  after(async () => {
    await system?.stop();
  });
  const call = <T = Record<string, unknown>>(method: string, request: object, who?: Customer) =>
    rpc<T>(system.notifications, method, request, who?.metadata);

  it('needs a token for every call', async () => {
    await rejectsWithCode(call('ListNotifications', {}), status.UNAUTHENTICATED);
    await rejectsWithCode(call('ListDeadLetters', {}), status.UNAUTHENTICATED);
  });

  it("lists a customer's own notifications (the welcome mail, sent), never another's", async () => {
    const customer = await system.signUp();
    const other = await system.signUp();
    let list: Notification[] = [];
    await waitUntil(
      async () => {
        list = (
          await call<{ notifications: Notification[] }>(
            'ListNotifications',
            { user_id: customer.id },
            customer,
          )
        ).notifications;
        return list.some((n) => n.status === 'NOTIFICATION_STATUS_SENT');
      },
      { timeoutMs: 15_000, intervalMs: 100, message: 'the welcome notification was not sent' },
    );
    const welcome = list.find((n) => n.event_type === 'user.created')!;
    assert.equal(welcome.channel, 'email');
    assert.equal(welcome.recipient, customer.email);
    assert.equal(welcome.attempts, 1);
    assert.ok(timestampMs(welcome.sent_at) >= timestampMs(welcome.created_at));
    await rejectsWithCode(
      call('ListNotifications', { user_id: other.id }, customer),
      status.PERMISSION_DENIED,
    );
    const mine = await call<{ notifications: Notification[] }>('ListNotifications', {}, customer);
    assert.ok(mine.notifications.every((n) => n.user_id === customer.id));
  });

  it('rejects bad paging and ids with the field named', async () => {
    await rejectsWithCode(
      call('ListNotifications', { page_size: 501 }, admin),
      status.INVALID_ARGUMENT,
      /page_size/,
    );
    await rejectsWithCode(
      call('ListNotifications', { page_token: '%%%' }, admin),
      status.INVALID_ARGUMENT,
      /page_token/,
    );
    await rejectsWithCode(
      call('ListNotifications', { user_id: 'nope' }, admin),
      status.INVALID_ARGUMENT,
      /user_id/,
    );
  });

  it('keeps webhooks for admins and validates registrations', async () => {
    const customer = await system.signUp();
    await rejectsWithCode(
      call('RegisterWebhook', { user_id: customer.id, url: 'https://hooks.example.com/x' }, customer),
      status.PERMISSION_DENIED,
    );
    await rejectsWithCode(call('ListWebhooks', {}, customer), status.PERMISSION_DENIED);
    await rejectsWithCode(
      call(
        'RegisterWebhook',
        { user_id: customer.id, global: true, url: 'https://hooks.example.com/x' },
        admin,
      ),
      status.INVALID_ARGUMENT,
    );
    await rejectsWithCode(
      call('RegisterWebhook', { url: 'https://hooks.example.com/x' }, admin),
      status.INVALID_ARGUMENT,
    );
    await rejectsWithCode(
      call('RegisterWebhook', { user_id: customer.id, url: 'not a url' }, admin),
      status.INVALID_ARGUMENT,
      /url/,
    );
    await rejectsWithCode(
      call('RegisterWebhook', { user_id: customer.id, url: 'http://127.0.0.1:9/x' }, admin),
      status.INVALID_ARGUMENT,
      /url/,
    );
    await rejectsWithCode(
      call('RegisterWebhook', { user_id: 'nope', url: 'https://hooks.example.com/x' }, admin),
      status.INVALID_ARGUMENT,
      /user_id/,
    );
  });

  it('registers a webhook (secret shown once), lists it without the secret, deletes it', async () => {
    // A fresh user with no further events: nothing is ever delivered off this machine.
    const quiet = await system.signUp();
    const registered = await call<{ webhook: { id: string; user_id: string; url: string }; secret: string }>(
      'RegisterWebhook',
      { user_id: quiet.id, url: `https://hooks.example.com/${randomUUID()}` },
      admin,
    );
    assert.ok(registered.secret.length >= 16);
    assert.equal(registered.webhook.user_id, quiet.id);
    const listed = await call<{ webhooks: Record<string, unknown>[] }>(
      'ListWebhooks',
      { user_id: quiet.id },
      admin,
    );
    assert.equal(listed.webhooks.length, 1);
    assert.ok(!JSON.stringify(listed).includes(registered.secret), 'the secret is never listed');
    await call('DeleteWebhook', { id: registered.webhook.id }, admin);
    assert.equal(
      (await call<{ webhooks: unknown[] }>('ListWebhooks', { user_id: quiet.id }, admin)).webhooks.length,
      0,
    );
    await rejectsWithCode(call('DeleteWebhook', { id: registered.webhook.id }, admin), status.NOT_FOUND);
    await rejectsWithCode(call('DeleteWebhook', { id: 'nope' }, admin), status.INVALID_ARGUMENT, /id/);
  });

  it('keeps dead letters for admins and names bad requests', async () => {
    const customer = await system.signUp();
    await rejectsWithCode(call('ListDeadLetters', {}, customer), status.PERMISSION_DENIED);
    const empty = await call<{ dead_letters: unknown[] }>('ListDeadLetters', {}, admin);
    assert.ok(Array.isArray(empty.dead_letters));
    await rejectsWithCode(
      call('ListDeadLetters', { page_size: 501 }, admin),
      status.INVALID_ARGUMENT,
      /page_size/,
    );
    await rejectsWithCode(call('GetDeadLetter', { id: 'nope' }, admin), status.INVALID_ARGUMENT, /id/);
    await rejectsWithCode(call('GetDeadLetter', { id: '999999' }, admin), status.NOT_FOUND);
  });
});
