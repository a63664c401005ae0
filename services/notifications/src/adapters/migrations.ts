import {
  consumerControlsTableSql,
  type Migration,
  messagingTablesSql,
  type ServiceRoleGrants,
} from '@conveyor/platform';
import { deliveryQueueSql } from './postgres-delivery-queue.ts';

/** notifications' own role (ADR 0026): the delivery schedule its own, to vacuum it. */
export const roleGrants: Omit<ServiceRoleGrants, 'role'> = { owned: ['delivery_queue'] };

export const migrations: Migration[] = [
  { name: '0001_inbox', sql: messagingTablesSql.inbox },
  {
    name: '0002_notifications',
    sql: `
      -- Contact details copied from user.created; erased on user.erased.
      create table recipients (
        user_id uuid primary key,
        email text,
        name text,
        erased_at timestamptz
      );
      create table notifications (
        id uuid primary key,
        event_id uuid not null,
        event_type text not null,
        user_id uuid not null,
        channel text not null,
        recipient text not null,
        subject text not null,
        body_text text not null,
        body_html text not null,
        status text not null default 'pending' check (status in ('pending', 'sent', 'failed')),
        attempts integer not null default 0,
        last_error text,
        created_at timestamptz not null,
        sent_at timestamptz,
        unique (event_id, channel)
      );
      create index notifications_user_created on notifications (user_id, created_at desc, id desc);
      create index notifications_created on notifications (created_at desc, id desc);
    `,
  },
  {
    name: '0003_webhooks_and_delivery_budget',
    sql: `
      -- Webhook registrations: one user's events, or every event when user_id is null.
      -- The secret signs deliveries (HMAC-SHA256), so it is kept as is; it is never read back out.
      create table webhooks (
        id uuid primary key,
        user_id uuid,
        url text not null,
        secret text not null,
        created_at timestamptz not null
      );
      create unique index webhooks_owner_url
        on webhooks (coalesce(user_id, '00000000-0000-0000-0000-000000000000'::uuid), url);
      create index webhooks_created on webhooks (created_at, id);

      -- One notification per (event, channel, target): target is '' for the user's email,
      -- the webhook id for a webhook.
      alter table notifications add column target text not null default '';
      alter table notifications add column webhook_id uuid;
      alter table notifications drop constraint notifications_event_id_channel_key;
      alter table notifications add constraint notifications_event_channel_target
        unique (event_id, channel, target);
      -- attempts counts every send tried; failures only those charged to the retry budget.
      alter table notifications add column failures integer not null default 0;
      alter table notifications add column last_attempt_at timestamptz;
      alter table notifications drop constraint notifications_status_check;
      alter table notifications add constraint notifications_status_check
        check (status in ('pending', 'sent', 'failed', 'cancelled'));
      create index notifications_event on notifications (event_id);
      create index notifications_webhook_pending on notifications (webhook_id) where status = 'pending';
    `,
  },
  {
    // Issue 16 (ADR 0018): deliveries are scheduled in Postgres, claimed under a lease and sent
    // outside any transaction; the event is acknowledged once recorded.
    name: '0004_delivery_queue',
    sql: `
      ${deliveryQueueSql}
      insert into delivery_queue (notification_id, bulkhead, due_at)
      select id, case when channel = 'email' then 'smtp' else 'webhook:' || webhook_id::text end, now()
      from notifications where status = 'pending';
      -- The unique (event_id, channel, target) serves every lookup by event.
      drop index notifications_event;
      -- Pending deliveries are found through delivery_queue: with no index on status, settling a
      -- notification changes no indexed column and can be a HOT update; room on each page for it.
      drop index notifications_webhook_pending;
      alter table notifications set (fillfactor = 80);
    `,
  },
  {
    // Webhook secrets are sealed at rest from now on (webhook-secret-box.ts; the service seals
    // the ones stored before at start-up). Outside production, without WEBHOOK_SECRET_KEYS, the
    // key-encryption key is a development key kept here.
    name: '0005_secret_keys',
    sql: 'create table secret_keys (name text primary key, key text not null)',
  },
  { name: '0006_parked_messages', sql: messagingTablesSql.parkedMessages },
  // Consumer controls (ADR 0033): the operators' pause flags and what each replica obeys.
  { name: '0007_consumer_controls', sql: consumerControlsTableSql },
];
