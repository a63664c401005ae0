import type { EventStore, StoredEvent } from '@conveyor/platform/core';
import { evolve, initialState, type OrderEvent, type OrderState } from '../domain/order.ts';
import { decodeOrderEvent, orderStreamId } from './order-event-mapping.ts';
import type { OrderProjectionTable, ProjectedOrder } from './order-projection-table.ts';
import { type OrderView, viewOf } from './order-view.ts';

export interface VersionedEvent {
  version: number;
  event: OrderEvent;
}

/** The store holds fewer events than a delivered one's version; retry later. */
export class StreamBehind extends Error {
  override name = 'StreamBehind';
}

/**
 * The row after `events` (one order's, ascending versions), starting from
 * `row`. Events already in the row are skipped. 'gap': an event between the
 * row and the next one is missing (reordered delivery, or a late commit the
 * rebuild read past), so the caller folds from the store instead. 'empty':
 * the order does not exist after them (its stream does not start with a
 * placement), so there is nothing to write.
 */
export function advance(
  row: OrderView | undefined,
  events: readonly VersionedEvent[],
): ProjectedOrder | 'duplicate' | 'gap' | 'empty' {
  let version = row?.version ?? 0;
  const fresh = events.filter((e) => e.version > version);
  const last = fresh.at(-1);
  if (!last) return 'duplicate';
  let state = row ? stateOfView(row) : initialState();
  for (const { version: next, event } of fresh) {
    if (next !== version + 1) return 'gap';
    state = evolve(state, event);
    version = next;
  }
  const view = viewOf(state, version);
  return view ? { view, updatedAt: last.event.at } : 'empty';
}

/** The fold of stored events 1..n of one order; undefined while it does not exist. */
export function foldStored(stored: readonly StoredEvent[]): ProjectedOrder | undefined {
  let state = initialState();
  let at: Date | undefined;
  for (const s of stored) {
    const event = decodeOrderEvent(s);
    state = evolve(state, event);
    at = event.at;
  }
  const view = viewOf(state, stored.at(-1)?.version ?? 0);
  return view && at ? { view, updatedAt: at } : undefined;
}

/**
 * Rewrites an order's row from the source of truth: its events up to
 * `toVersion` (all of them when undefined). Throws StreamBehind when the
 * store has fewer than `toVersion`.
 */
export async function repairFromStore(
  deps: { events: Pick<EventStore, 'readStream'>; table: OrderProjectionTable },
  orderId: string,
  toVersion?: number,
): Promise<void> {
  const range = toVersion === undefined ? {} : { toVersion };
  const stored = await deps.events.readStream(orderStreamId(orderId), range);
  if (toVersion !== undefined && stored.length < toVersion) {
    throw new StreamBehind(`order ${orderId} has ${stored.length} event(s) stored, not ${toVersion} yet`);
  }
  const row = foldStored(stored);
  if (row) await deps.table.upsertIfNewer([row]);
}

/** The state a row was projected from; a view holds every field of every state. */
export function stateOfView(view: OrderView): OrderState {
  const placed = {
    orderId: view.orderId,
    userId: view.userId,
    items: view.items,
    total: view.total,
    placedAt: view.placedAt,
  };
  const need = <T>(value: T | undefined, field: string): T => {
    if (value === undefined) throw new Error(`order ${view.orderId} is ${view.status} without ${field}`);
    return value;
  };
  switch (view.status) {
    case 'placed':
      return { status: 'placed', ...placed };
    case 'paid':
      return { status: 'paid', ...placed, paidAt: need(view.paidAt, 'paidAt') };
    case 'shipped':
    case 'delivered': {
      const shipped = {
        ...placed,
        paidAt: need(view.paidAt, 'paidAt'),
        shippedAt: need(view.shippedAt, 'shippedAt'),
        carrier: need(view.carrier, 'carrier'),
        trackingNumber: need(view.trackingNumber, 'trackingNumber'),
      };
      return view.status === 'shipped'
        ? { status: 'shipped', ...shipped }
        : { status: 'delivered', ...shipped, deliveredAt: need(view.deliveredAt, 'deliveredAt') };
    }
    case 'cancelled':
      return {
        status: 'cancelled',
        ...placed,
        paidAt: view.paidAt,
        cancelledAt: need(view.cancelledAt, 'cancelledAt'),
        reason: need(view.cancelReason, 'cancelReason'),
      };
    default: {
      const unreachable: never = view.status;
      throw new Error(`unknown status ${String(unreachable)}`);
    }
  }
}
