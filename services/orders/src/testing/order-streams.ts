import assert from 'node:assert/strict';
import {
  createPool,
  type EventStore,
  migrate,
  type Pool,
  PostgresEventStore,
  type StoredEvent,
} from '@conveyor/platform';
import { type TestDatabase, testDatabase } from '@conveyor/stack/testing';
import { v7 as uuidv7 } from 'uuid';
import { migrations } from '../adapters/migrations.ts';
import { PostgresOrderReadModels } from '../adapters/postgres-read-models.ts';
import {
  decodeOrderEvent,
  encodeOrderEvent,
  orderIdOfStream,
  orderStreamId,
} from '../app/order-event-mapping.ts';
import { foldStored } from '../app/order-projection.ts';
import { type ProjectOrderEvent, projectOrderEvent } from '../app/project-order-event.ts';
import { decide, fold, type OrderCommand } from '../domain/order.ts';

/** Test support for the projection tests: a migrated database and valid order lifecycles. */

export interface OrdersDb {
  db: TestDatabase;
  pool: Pool;
  store: PostgresEventStore;
  /** The live read model (order_summaries). */
  readModels: PostgresOrderReadModels;
  /** Projects one event into the live read model, as the projection consumer does. */
  project: ProjectOrderEvent;
  /** Decides `command` on the stored order and appends its events, like the command loop does. */
  append(orderId: string, command: OrderCommand): Promise<StoredEvent[]>;
  /**
   * Asserts that each order's row in `table` (order_summaries by default) is the fold of its whole
   * stream, time stamp included: of `only` these orders, or of every stored order (then also that
   * there is no other row). Answers how many orders it compared.
   */
  assertRowsMatchStore(options?: { table?: string; only?: string[] }): Promise<number>;
  /** All rows of `table` (order_summaries by default), as Postgres has them, by order id. */
  rows(table?: string): Promise<Map<string, Record<string, unknown>>>;
  close(): Promise<void>;
}

/** A throwaway database with the orders schema migrated: the event store and the live read model. */
export async function ordersDb(prefix: string): Promise<OrdersDb> {
  const db = await testDatabase(prefix);
  await migrate({ url: db.url, schema: 'orders', migrations });
  const pool = createPool({ url: db.url, schema: 'orders', applicationName: 'test', max: 20 });
  const store = new PostgresEventStore(pool);
  const readModels = new PostgresOrderReadModels(pool);
  return {
    db,
    pool,
    store,
    readModels,
    project: projectOrderEvent({ table: readModels, store }),
    append: (orderId, command) => appendCommand(store, orderId, command),
    assertRowsMatchStore: (options) => assertRowsMatchStore(pool, store, options),
    rows: (table) => snapshotRows(pool, table),
    async close() {
      await pool.end();
      await db.drop();
    },
  };
}

const base = Date.parse('2025-01-01T00:00:00.000Z');
let tick = 0;
const jittered = () => new Date(base + ++tick * 1000 + Math.floor(Math.random() * 1000));

/**
 * The commands of one order: placed, then (by `variant`) paid, shipped, delivered or cancelled;
 * `at` gives each command's time in order (by default later and later, with jitter).
 */
export function lifecycle(
  orderId: string,
  userId: string,
  variant: number,
  at: () => Date = jittered,
): OrderCommand[] {
  const unitPrice = { amountMinor: 1250 + variant, currency: 'EUR' };
  const place: OrderCommand = {
    type: 'PlaceOrder',
    orderId,
    userId,
    items: [{ sku: 'MUG-001', quantity: 1 + (variant % 3), unitPrice }],
    at: at(),
  };
  const pay: OrderCommand = { type: 'PayOrder', at: at() };
  const ship: OrderCommand = { type: 'ShipOrder', carrier: 'DHL', trackingNumber: `T-${variant}`, at: at() };
  const deliver: OrderCommand = { type: 'DeliverOrder', at: at() };
  const cancel: OrderCommand = { type: 'CancelOrder', reason: `reason ${variant}`, at: at() };
  const paths: OrderCommand[][] = [
    [place],
    [place, pay],
    [place, pay, ship],
    [place, pay, ship, deliver],
    [place, cancel],
    [place, pay, cancel],
  ];
  return paths[variant % paths.length] ?? [place];
}

async function appendCommand(
  store: EventStore,
  orderId: string,
  command: OrderCommand,
): Promise<StoredEvent[]> {
  const stored = await store.readStream(orderStreamId(orderId));
  const events = decide(command, fold(stored.map(decodeOrderEvent)));
  const result = await store.appendToStream(
    orderStreamId(orderId),
    events.map((e) => ({ eventId: uuidv7(), ...encodeOrderEvent(e), metadata: {} })),
    { expectedVersion: stored.length },
  );
  assert.equal(result.kind, 'appended');
  return result.kind === 'appended' ? result.events : [];
}

/** Every order in the store. */
export async function storedOrderIds(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ stream_id: string }>(
    `select distinct stream_id from events where stream_id like 'order-%' order by stream_id`,
  );
  return rows.map((r) => orderIdOfStream(r.stream_id));
}

async function assertRowsMatchStore(
  pool: Pool,
  store: EventStore,
  options: { table?: string; only?: string[] } = {},
): Promise<number> {
  const table = options.table ?? 'order_summaries';
  const orderIds = options.only ?? (await storedOrderIds(pool));
  const views = await new PostgresOrderReadModels(pool, table).getOrders(orderIds);
  const { rows } = await pool.query<{ order_id: string; updated_at: Date }>(
    `select order_id, updated_at from ${table} where order_id = any($1::uuid[])`,
    [orderIds],
  );
  if (!options.only) {
    const { rows: all } = await pool.query<{ n: number }>(`select count(*)::int as n from ${table}`);
    assert.equal(all[0]?.n, orderIds.length, 'one row per order');
  }
  const updatedAt = new Map(rows.map((r) => [r.order_id, r.updated_at]));
  for (const orderId of orderIds) {
    const expected = foldStored(await store.readStream(orderStreamId(orderId)));
    assert.deepEqual(views.get(orderId), expected?.view, `order ${orderId}`);
    assert.deepEqual(updatedAt.get(orderId), expected?.updatedAt, `updated_at of ${orderId}`);
  }
  return orderIds.length;
}

async function snapshotRows(pool: Pool, table = 'order_summaries') {
  const { rows } = await pool.query<Record<string, unknown> & { order_id: string }>(
    `select * from ${table} order by order_id`,
  );
  return new Map(rows.map((r) => [r.order_id, r]));
}
