import { type Queryable, SqlFilter } from '@conveyor/platform';
import type { OrderProjectionTable, ProjectedOrder } from '../app/order-projection-table.ts';
import type { OrderReadModels } from '../app/order-read-models.ts';
import type { ExistingStatus, OrderSummaryView, OrderView } from '../app/order-view.ts';
import type { LineItem } from '../domain/order.ts';

/** The table reads are served from (migration 0004); a rebuild replaces it by name. */
export const liveOrderTable = 'order_summaries';

/** `name` when it is a lowercase SQL identifier that needs no quoting; table names are spliced into SQL. */
export function plainTableName(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain table name: ${name}`);
  return name;
}

interface OrderRow {
  order_id: string;
  user_id: string;
  status: ExistingStatus;
  items: LineItem[];
  total_minor: string;
  currency: string;
  item_count: number;
  version: number;
  placed_at: Date;
  paid_at: Date | null;
  shipped_at: Date | null;
  delivered_at: Date | null;
  cancelled_at: Date | null;
  carrier: string | null;
  tracking_number: string | null;
  cancel_reason: string | null;
  updated_at: Date;
}

const columnTypes = [
  ['order_id', 'uuid'],
  ['user_id', 'uuid'],
  ['status', 'text'],
  ['items', 'jsonb'],
  ['total_minor', 'bigint'],
  ['currency', 'text'],
  ['item_count', 'integer'],
  ['version', 'integer'],
  ['placed_at', 'timestamptz'],
  ['paid_at', 'timestamptz'],
  ['shipped_at', 'timestamptz'],
  ['delivered_at', 'timestamptz'],
  ['cancelled_at', 'timestamptz'],
  ['carrier', 'text'],
  ['tracking_number', 'text'],
  ['cancel_reason', 'text'],
  ['updated_at', 'timestamptz'],
] as const;
const columns = columnTypes.map(([name]) => name).join(', ');
const recordType = columnTypes.map(([name, type]) => `${name} ${type}`).join(', ');
const updates = columnTypes
  .filter(([name]) => name !== 'order_id')
  .map(([name]) => `${name} = excluded.${name}`)
  .join(', ');

const summaryColumns =
  'order_id, user_id, status, total_minor, currency, item_count, version, placed_at, updated_at';

/**
 * The order read model in one Postgres table: GetOrder by primary key,
 * ListOrders by (user_id[, status], placed_at desc, order_id desc).
 * `table` names the live table or a rebuild's shadow; `db` is a pool or a
 * client inside a transaction. Table names are SQL identifiers, never input.
 */
export class PostgresOrderReadModels implements OrderReadModels, OrderProjectionTable {
  readonly #db: Queryable;
  readonly #table: string;

  constructor(db: Queryable, table: string = liveOrderTable) {
    this.#db = db;
    this.#table = plainTableName(table);
  }

  async getOrder(orderId: string): Promise<OrderView | undefined> {
    return (await this.getOrders([orderId])).get(orderId);
  }

  async getOrders(orderIds: readonly string[]): Promise<Map<string, OrderView>> {
    if (orderIds.length === 0) return new Map();
    const { rows } = await this.#db.query<OrderRow>(
      `select ${columns} from ${this.#table} where order_id = any($1::uuid[])`,
      [orderIds],
    );
    return new Map(rows.map((r) => [r.order_id, viewOfRow(r)]));
  }

  async listOrders(query: Parameters<OrderReadModels['listOrders']>[0]): Promise<OrderSummaryView[]> {
    const filter = new SqlFilter().and('user_id = ?', query.userId);
    if (query.status !== undefined) filter.and('status = ?', query.status);
    if (query.after) filter.and('(placed_at, order_id) < (?, ?)', query.after.placedAt, query.after.orderId);
    const { rows } = await this.#db.query<OrderRow>(
      `select ${summaryColumns} from ${this.#table} ${filter.where}
       order by placed_at desc, order_id desc limit ${filter.param(query.limit)}`,
      filter.params,
    );
    return rows.map(summaryOfRow);
  }

  /**
   * One statement for any number of rows; of two rows for one order, the higher version wins.
   * A written row gets `projected_at` (now), a row left alone keeps its own.
   */
  async upsertIfNewer(rows: readonly ProjectedOrder[]): Promise<number> {
    const newest = new Map<string, ProjectedOrder>();
    for (const row of rows) {
      const seen = newest.get(row.view.orderId);
      if (!seen || seen.view.version < row.view.version) newest.set(row.view.orderId, row);
    }
    if (newest.size === 0) return 0;
    const result = await this.#db.query(
      `insert into ${this.#table} (${columns}, projected_at)
       select ${columns}, clock_timestamp() from jsonb_to_recordset($1::jsonb) as r(${recordType})
       on conflict (order_id) do update set ${updates}, projected_at = excluded.projected_at
       where ${this.#table}.version < excluded.version`,
      [JSON.stringify([...newest.values()].map(recordOf))],
    );
    return result.rowCount ?? 0;
  }

  /**
   * Orders (ascending ids after `afterOrderId`) whose row is missing or behind
   * the last version of their stream in the event store: what a projection
   * that read events by position can have missed (a transaction that
   * committed after a higher position had been read).
   */
  async staleOrders(page: { afterOrderId: string | undefined; limit: number }): Promise<string[]> {
    const { rows } = await this.#db.query<{ order_id: string }>(
      `select s.order_id from (
         select substr(stream_id, 7) as order_id, max(version) as version
         from events where stream_id like 'order-%' group by stream_id
       ) s left join ${this.#table} t on t.order_id::text = s.order_id
       where (t.version is null or t.version < s.version) and s.order_id > $1
       order by s.order_id limit $2`,
      [page.afterOrderId ?? '', page.limit],
    );
    return rows.map((r) => r.order_id);
  }
}

/** The view's fields that are unset until a step of the order's life, and their nullable columns. */
const laterColumns = [
  ['paidAt', 'paid_at'],
  ['shippedAt', 'shipped_at'],
  ['deliveredAt', 'delivered_at'],
  ['cancelledAt', 'cancelled_at'],
  ['carrier', 'carrier'],
  ['trackingNumber', 'tracking_number'],
  ['cancelReason', 'cancel_reason'],
] as const satisfies readonly (readonly [keyof OrderView, keyof OrderRow])[];
type LaterFields = Pick<OrderView, (typeof laterColumns)[number][0]>;

function recordOf({ view, updatedAt }: ProjectedOrder): Record<string, unknown> {
  return {
    order_id: view.orderId,
    user_id: view.userId,
    status: view.status,
    items: view.items,
    total_minor: view.total.amountMinor,
    currency: view.total.currency,
    item_count: view.items.reduce((n, item) => n + item.quantity, 0),
    version: view.version,
    placed_at: view.placedAt,
    ...Object.fromEntries(laterColumns.map(([field, column]) => [column, view[field] ?? null])),
    updated_at: updatedAt,
  };
}

function viewOfRow(r: OrderRow): OrderView {
  const later = Object.fromEntries(laterColumns.map(([field, column]) => [field, r[column] ?? undefined]));
  return {
    orderId: r.order_id,
    userId: r.user_id,
    status: r.status,
    items: r.items,
    total: { amountMinor: Number(r.total_minor), currency: r.currency },
    version: r.version,
    placedAt: r.placed_at,
    ...(later as LaterFields),
  };
}

const summaryOfRow = (r: OrderRow): OrderSummaryView => ({
  orderId: r.order_id,
  userId: r.user_id,
  status: r.status,
  total: { amountMinor: Number(r.total_minor), currency: r.currency },
  itemCount: r.item_count,
  version: r.version,
  placedAt: r.placed_at,
  updatedAt: r.updated_at,
});
