import type { CloudEvent, EventStore } from '@conveyor/platform/core';
import { aborted } from '@conveyor/platform/errors';
import type { Catalog } from '../app/catalog.ts';
import { orderIdOfStream, orderStreamId } from '../app/order-event-mapping.ts';
import type { OrderProjectionTable, ProjectedOrder } from '../app/order-projection-table.ts';
import type { OrderReadModels } from '../app/order-read-models.ts';
import type { OrderSummaryView, OrderView } from '../app/order-view.ts';
import type { RebuildSession, RebuildTarget, ShadowTable } from '../app/rebuild-target.ts';
import type { UserDirectory } from '../app/user-directory.ts';
import type { Product } from '../domain/product.ts';

/** The demo catalog of migration 0001, in SKU order. */
export const demoProducts: readonly Product[] = (
  [
    ['BOOK-EDA', 'Event-Driven Architecture, paperback', 'The field guide.', 3900],
    ['HOODIE-GRY-M', 'Conveyor hoodie, grey, M', 'Heavyweight fleece.', 5900],
    ['MUG-001', 'Conveyor mug', 'Stoneware, 350 ml, dishwasher safe.', 1250],
    ['STICKER-PACK', 'Sticker pack', 'Ten vinyl stickers.', 500],
    ['TEE-BLK-L', 'Conveyor T-shirt, black, L', 'Organic cotton.', 2400],
    ['TEE-BLK-M', 'Conveyor T-shirt, black, M', 'Organic cotton.', 2400],
  ] as const
).map(([sku, name, description, amountMinor]) => ({
  sku,
  name,
  description,
  price: { amountMinor, currency: 'EUR' },
}));

export class InMemoryCatalog implements Catalog {
  readonly #products: Product[];
  /** SKUs asked for through findMany, one entry per call. */
  readonly lookups: string[][] = [];

  constructor(products: readonly Product[] = demoProducts) {
    this.#products = [...products].sort((a, b) => (a.sku < b.sku ? -1 : 1));
  }

  async list(options: { limit: number; afterSku?: string }): Promise<Product[]> {
    const after = options.afterSku;
    return this.#products.filter((p) => after === undefined || p.sku > after).slice(0, options.limit);
  }

  async find(sku: string): Promise<Product | undefined> {
    return this.#products.find((p) => p.sku === sku);
  }

  async findMany(skus: readonly string[]): Promise<Product[]> {
    this.lookups.push([...skus]);
    return this.#products.filter((p) => skus.includes(p.sku));
  }
}

/** Users who exist; an erased one is removed. Records the tokens it was asked with. */
export class InMemoryUserDirectory implements UserDirectory {
  readonly #users = new Set<string>();
  readonly askedWith: string[] = [];

  add(...userIds: string[]): this {
    for (const id of userIds) this.#users.add(id);
    return this;
  }

  erase(userId: string): void {
    this.#users.delete(userId);
  }

  async exists(userId: string, token: string): Promise<boolean> {
    this.askedWith.push(token);
    return this.#users.has(userId);
  }
}

/**
 * The order read model as a map, with the Postgres table's contract: a row only moves to a
 * higher version; lists are newest first by (placedAt, orderId), keyset-paginated.
 */
export class InMemoryOrderReadModels implements OrderReadModels, OrderProjectionTable {
  rows = new Map<string, ProjectedOrder>();

  async getOrder(orderId: string): Promise<OrderView | undefined> {
    return this.rows.get(orderId.toLowerCase())?.view;
  }

  async getOrders(orderIds: readonly string[]): Promise<Map<string, OrderView>> {
    const found = new Map<string, OrderView>();
    for (const id of orderIds) {
      const row = this.rows.get(id);
      if (row) found.set(id, row.view);
    }
    return found;
  }

  async listOrders(query: Parameters<OrderReadModels['listOrders']>[0]): Promise<OrderSummaryView[]> {
    const after = query.after;
    const newerFirst = (a: OrderView, b: OrderView) =>
      b.placedAt.getTime() - a.placedAt.getTime() || (b.orderId > a.orderId ? 1 : -1);
    const isAfter = (v: OrderView) =>
      !after ||
      v.placedAt.getTime() < after.placedAt.getTime() ||
      (v.placedAt.getTime() === after.placedAt.getTime() && v.orderId < after.orderId);
    return [...this.rows.values()]
      .filter(({ view }) => view.userId === query.userId)
      .filter(({ view }) => query.status === undefined || view.status === query.status)
      .filter(({ view }) => isAfter(view))
      .sort((a, b) => newerFirst(a.view, b.view))
      .slice(0, query.limit)
      .map(({ view, updatedAt }) => ({
        orderId: view.orderId,
        userId: view.userId,
        status: view.status,
        total: view.total,
        itemCount: view.items.reduce((n, item) => n + item.quantity, 0),
        version: view.version,
        placedAt: view.placedAt,
        updatedAt,
      }));
  }

  async upsertIfNewer(rows: readonly ProjectedOrder[]): Promise<number> {
    let written = 0;
    for (const row of rows) {
      const current = this.rows.get(row.view.orderId);
      if (current && current.view.version >= row.view.version) continue;
      this.rows.set(row.view.orderId, structuredClone(row));
      written++;
    }
    return written;
  }
}

/** A rebuild into a shadow map that replaces the live one's rows at the swap; one at a time. */
export class InMemoryRebuildTarget implements RebuildTarget {
  readonly #live: InMemoryOrderReadModels;
  readonly #store: EventStore;
  #running = false;

  constructor(live: InMemoryOrderReadModels, store: EventStore) {
    this.#live = live;
    this.#store = store;
  }

  async exclusively<T>(work: (session: RebuildSession) => Promise<T>): Promise<T> {
    if (this.#running) throw aborted('a rebuild is running already');
    this.#running = true;
    try {
      const shadow = shadowOf(new InMemoryOrderReadModels(), this.#store);
      return await work({
        createShadow: async () => shadow,
        indexShadow: async () => {},
        swap: async (finish) => {
          await finish({ shadow, events: this.#store });
          this.#live.rows = shadow.rows;
        },
      });
    } finally {
      this.#running = false;
    }
  }
}

function shadowOf(table: InMemoryOrderReadModels, store: EventStore): ShadowTable & InMemoryOrderReadModels {
  return Object.assign(table, {
    async staleOrders(page: { afterOrderId: string | undefined; limit: number }): Promise<string[]> {
      const events = await store.readByStream({
        prefix: orderStreamId(''),
        after: undefined,
        maxPosition: Number.MAX_SAFE_INTEGER,
        limit: Number.MAX_SAFE_INTEGER,
      });
      const last = new Map<string, number>();
      for (const e of events) last.set(orderIdOfStream(e.streamId), e.version);
      return [...last]
        .filter(([id, version]) => (table.rows.get(id)?.view.version ?? 0) < version)
        .map(([id]) => id)
        .filter((id) => page.afterOrderId === undefined || id > page.afterOrderId)
        .sort()
        .slice(0, page.limit);
    },
  });
}

/** What RepublishEvents queued, in order (the outbox's stand-in). */
export function recordingRequeue(): {
  queued: CloudEvent[];
  requeue: (events: readonly CloudEvent[]) => Promise<number>;
} {
  const queued: CloudEvent[] = [];
  return {
    queued,
    requeue: async (events) => {
      queued.push(...events);
      return events.length;
    },
  };
}
