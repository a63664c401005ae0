import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { notificationsV1 } from '@conveyor/contracts/grpc';
import {
  formatMails,
  formatMoney,
  formatNotifications,
  formatStatus,
  formatTime,
  formatWebhookSink,
} from './format.ts';
import { renderFields, renderTable } from './table.ts';
import { at } from './testing/utc.ts';
import { formatUser } from './user-format.ts';

describe('renderTable', () => {
  it('aligns columns under the header without trailing spaces', () => {
    const text = renderTable(
      ['name', 'status', 'n'],
      [
        ['users', 'SERVING', '1'],
        ['notifications', 'down', ''],
      ],
    );
    assert.equal(
      text,
      ['name           status   n', 'users          SERVING  1', 'notifications  down'].join('\n'),
    );
  });

  it('puts cells on one line and clips long ones', () => {
    const [, row] = renderTable(['subject'], [['line one\nline two'], ['x'.repeat(80)]]).split('\n');
    assert.equal(row, 'line one line two');
    const clipped = renderTable(['subject'], [['x'.repeat(80)]]).split('\n')[1] ?? '';
    assert.equal(clipped.length, 60);
    assert.ok(clipped.endsWith('…'));
  });

  it('renders aligned fields', () => {
    assert.equal(
      renderFields([
        ['id', '1'],
        ['created', 'now'],
      ]),
      'id       1\ncreated  now',
    );
  });
});

describe('formatters', () => {
  it('formats times locally and marks missing ones', () => {
    assert.equal(formatTime(at), '2026-01-02 03:04:05');
    assert.equal(formatTime(at.toISOString()), '2026-01-02 03:04:05');
    assert.equal(formatTime(undefined), '-');
    assert.equal(formatTime('not a date'), '-');
  });

  it('formats a user', () => {
    const text = formatUser({
      id: 'u1',
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      createdAt: at,
      role: 2,
    });
    assert.equal(
      text,
      [
        'id       u1',
        'email    ada@example.com',
        'name     Ada Lovelace',
        'role     admin',
        'created  2026-01-02 03:04:05',
      ].join('\n'),
    );
  });

  it('formats notifications with readable statuses', () => {
    const notification: notificationsV1.Notification = {
      id: 'n1',
      userId: 'u1',
      eventId: 'e1',
      eventType: 'user.created',
      channel: 'email',
      recipient: 'ada@example.com',
      subject: 'Welcome to Conveyor',
      status: notificationsV1.NotificationStatus.NOTIFICATION_STATUS_SENT,
      attempts: 1,
      lastError: '',
      createdAt: at,
      sentAt: at,
      webhookId: '',
      lastAttemptAt: at,
    };
    const hook = {
      ...notification,
      id: 'n2',
      channel: 'webhook',
      recipient: 'https://hooks.example.com/in',
      subject: 'user.created',
      webhookId: 'w1',
      status: notificationsV1.NotificationStatus.NOTIFICATION_STATUS_PENDING,
      attempts: 2,
      lastError: 'webhook: answered 503',
    };
    assert.equal(
      formatNotifications([notification, hook], notificationsV1.notificationStatusToJSON),
      [
        'time                 type          channel  to                            subject              status   attempts  last error',
        '2026-01-02 03:04:05  user.created  email    ada@example.com               Welcome to Conveyor  sent     1',
        '2026-01-02 03:04:05  user.created  webhook  https://hooks.example.com/in  user.created         pending  2         webhook: answered 503',
      ].join('\n'),
    );
    assert.equal(formatNotifications([], notificationsV1.notificationStatusToJSON), 'no notifications yet');
  });

  it('formats mails and says where the web UI is', () => {
    const mail = { id: 1, from: 'a@x', to: ['b@y', 'c@z'], subject: 'Hi', receivedAt: at.toISOString() };
    assert.equal(
      formatMails([mail], 'http://127.0.0.1:8025'),
      [
        'received             from  to        subject',
        '2026-01-02 03:04:05  a@x   b@y, c@z  Hi',
        '',
        'web UI: http://127.0.0.1:8025',
      ].join('\n'),
    );
    assert.match(formatMails([], 'http://w'), /no mail received yet \(web UI: http:\/\/w\)/);
  });

  it('formats what the webhook sink received under what it answers', () => {
    const delivery = {
      receivedAt: at.toISOString(),
      path: '/hooks',
      eventType: 'order.placed',
      eventId: 'e1',
      status: 410,
    };
    assert.equal(
      formatWebhookSink('http://127.0.0.1:9999', 'refuse', [delivery], 3),
      [
        'webhook sink http://127.0.0.1:9999 answers 410 Gone (refuse): deliveries fail permanently and become dead letters at once',
        '',
        'received             status  event         event id  path',
        '2026-01-02 03:04:05  410     order.placed  e1        /hooks',
        '',
        '(the newest 1 of 3; more with --limit)',
      ].join('\n'),
    );
    assert.match(
      formatWebhookSink('http://w', 'accept', [], 0),
      /answers 204 \(accept\)[^\n]*\n\nnothing received yet$/,
    );
  });

  it('formats the status table with a summary', () => {
    const up = {
      service: 'users',
      grpc: 'g:1',
      health: 'SERVING',
      ops: 'http://o:1',
      readyz: 'ready',
      up: true,
    };
    const down = { ...up, service: 'notifications', health: 'unreachable', readyz: 'unreachable', up: false };
    const text = formatStatus([up, down]);
    assert.match(text, /^service +address +health +ops +readyz$/m);
    assert.match(text, /^notifications +g:1 +unreachable +http:\/\/o:1 +unreachable$/m);
    assert.ok(text.endsWith('\n\n1 of 2 down'));
    assert.ok(formatStatus([up]).endsWith('all 1 up'));
  });
});

describe('formatMoney', () => {
  it('prints minor units with two decimals and the currency', () => {
    assert.equal(formatMoney({ amountMinor: 1250, currency: 'EUR' }), '12.50 EUR');
    assert.equal(formatMoney({ amountMinor: 5, currency: 'EUR' }), '0.05 EUR');
    assert.equal(formatMoney(undefined), '-');
  });
});
