/**
 * The raw pipeline's tables: the same rows and the same indexes a user of Conveyor's read side
 * needs (orders by user, notifications by user and by time), so both pipelines pay for the same
 * durable writes. Written by hand on purpose: the ceiling shares no code with Conveyor.
 */
export const rawSchemaSql = `
  create schema raw_orders;
  create table raw_orders.events (
    position bigint generated always as identity primary key,
    stream_id text not null,
    version integer not null,
    event_id uuid not null unique,
    type text not null,
    data jsonb not null,
    metadata jsonb not null default '{}',
    recorded_at timestamptz not null default now(),
    unique (stream_id, version)
  );
  create table raw_orders.idempotency_claims (
    scope text not null,
    key text not null,
    stream_id text not null,
    claimed_at timestamptz not null default now(),
    primary key (scope, key)
  );
  create table raw_orders.outbox (
    position bigint generated always as identity primary key,
    event_id uuid not null unique,
    subject text not null,
    headers jsonb not null,
    payload bytea not null,
    created_at timestamptz not null default now()
  );
  create table raw_orders.order_summaries (
    order_id uuid primary key,
    user_id uuid not null,
    status text not null,
    items jsonb not null,
    total_minor bigint not null,
    currency text not null,
    item_count integer not null,
    version integer not null,
    placed_at timestamptz not null,
    updated_at timestamptz not null,
    projected_at timestamptz not null
  );
  create index on raw_orders.order_summaries (user_id, placed_at desc, order_id desc);
  create index on raw_orders.order_summaries (user_id, status, placed_at desc, order_id desc);

  create schema raw_notifications;
  create table raw_notifications.inbox (
    consumer text not null,
    event_id uuid not null,
    handled_at timestamptz not null default now(),
    primary key (consumer, event_id)
  );
  create table raw_notifications.recipients (
    user_id uuid primary key,
    email text,
    name text
  );
  create table raw_notifications.notifications (
    id uuid primary key,
    event_id uuid not null,
    event_type text not null,
    user_id uuid not null,
    channel text not null,
    target text not null,
    recipient text not null,
    subject text not null,
    body_text text not null,
    body_html text not null,
    status text not null default 'pending',
    attempts integer not null default 0,
    created_at timestamptz not null,
    sent_at timestamptz,
    unique (event_id, channel, target)
  );
  create index on raw_notifications.notifications (user_id, created_at desc, id desc);
  create index on raw_notifications.notifications (created_at desc, id desc);
`;

export const rawStream = { name: 'RAW_ORDERS', subject: 'order.created' } as const;
export const rawMailDomain = 'raw.bench';
