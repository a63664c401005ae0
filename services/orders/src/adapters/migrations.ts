import {
  consumerControlsTableSql,
  eventStoreTablesSql,
  type Migration,
  messagingTablesSql,
  type ServiceRoleGrants,
  timersTableSql,
} from '@conveyor/platform';

/** orders' own role (ADR 0026): events only appended; the read model its own, for rebuilds. */
export const roleGrants: Omit<ServiceRoleGrants, 'role'> = {
  appendOnly: ['events'],
  owned: ['order_summaries'],
};

export const migrations: Migration[] = [
  {
    name: '0001_products',
    sql: `
      create table products (
        sku text primary key check (sku ~ '^[A-Z0-9][A-Z0-9-]{0,63}$'),
        name text not null,
        description text not null default '',
        price_minor bigint not null check (price_minor >= 0),
        currency char(3) not null check (currency ~ '^[A-Z]{3}$')
      );
      -- The demo catalog.
      insert into products (sku, name, description, price_minor, currency) values
        ('MUG-001', 'Conveyor mug', 'Stoneware, 350 ml, dishwasher safe.', 1250, 'EUR'),
        ('TEE-BLK-M', 'Conveyor T-shirt, black, M', 'Organic cotton.', 2400, 'EUR'),
        ('TEE-BLK-L', 'Conveyor T-shirt, black, L', 'Organic cotton.', 2400, 'EUR'),
        ('STICKER-PACK', 'Sticker pack', 'Ten vinyl stickers.', 500, 'EUR'),
        ('BOOK-EDA', 'Event-Driven Architecture, paperback', 'The field guide.', 3900, 'EUR'),
        ('HOODIE-GRY-M', 'Conveyor hoodie, grey, M', 'Heavyweight fleece.', 5900, 'EUR');
    `,
  },
  { name: '0002_outbox', sql: messagingTablesSql.outbox },
  { name: '0003_event_store', sql: eventStoreTablesSql },
  {
    // One row per order: it answers both "this order" and "this user's
    // orders". `version` (events applied) guards every write, so duplicate or
    // late deliveries never overwrite a newer row.
    name: '0004_read_models',
    sql: `
      create table order_summaries (
        order_id uuid primary key,
        user_id uuid not null,
        status text not null check (status in ('placed', 'paid', 'shipped', 'delivered', 'cancelled')),
        items jsonb not null,
        total_minor bigint not null,
        currency text not null,
        item_count integer not null,
        version integer not null check (version > 0),
        placed_at timestamptz not null,
        paid_at timestamptz,
        shipped_at timestamptz,
        delivered_at timestamptz,
        cancelled_at timestamptz,
        carrier text,
        tracking_number text,
        cancel_reason text,
        updated_at timestamptz not null
      );
      create index order_summaries_by_user on order_summaries (user_id, placed_at desc, order_id desc);
      create index order_summaries_by_user_status
        on order_summaries (user_id, status, placed_at desc, order_id desc);
    `,
  },
  { name: '0005_outbox_wake_after_commit', sql: messagingTablesSql.dropOutboxTrigger },
  {
    // When the projection last wrote the row (its clock, not the event's): the read model's
    // freshness, and the end of the benchmark's event-recorded → projected lag.
    name: '0006_order_summaries_projected_at',
    sql: `alter table order_summaries add column projected_at timestamptz not null default now();`,
  },
  { name: '0007_parked_messages', sql: messagingTablesSql.parkedMessages },
  // Durable timers (ADR 0032): an order's payment deadline, set with the order.
  { name: '0008_timers', sql: timersTableSql },
  // Consumer controls (ADR 0033): the operators' pause flags and what each replica obeys.
  { name: '0009_consumer_controls', sql: consumerControlsTableSql },
];
