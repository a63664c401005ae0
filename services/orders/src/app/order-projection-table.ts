import type { OrderView } from './order-view.ts';

/**
 * What live projection and rebuild share: a row is always the fold of its
 * order's first `version` events, stamped with the last one's time, so any
 * writer that computes a row for a version computes the same row.
 */
export interface ProjectedOrder {
  view: OrderView;
  /** The time of the event at `view.version` (not the clock), so a rebuild reproduces it. */
  updatedAt: Date;
}

/**
 * A table of projected orders (the live one or a rebuild's shadow).
 * Contract: upsertIfNewer never replaces a row by one of an equal or lower
 * version, so writers may repeat, arrive late or run concurrently (replicas,
 * a rebuild beside the live projector) and a row only ever moves forward.
 */
export interface OrderProjectionTable {
  getOrders(orderIds: readonly string[]): Promise<Map<string, OrderView>>;
  /** Returns how many rows it wrote (inserted or moved forward). */
  upsertIfNewer(rows: readonly ProjectedOrder[]): Promise<number>;
}
