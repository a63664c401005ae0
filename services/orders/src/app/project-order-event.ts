import { type EventStore, PoisonMessageError } from '@conveyor/platform/core';
import type { OrderEvent } from '../domain/order.ts';
import { advance, repairFromStore, type VersionedEvent } from './order-projection.ts';
import type { OrderProjectionTable, ProjectedOrder } from './order-projection-table.ts';

export type ProjectionOutcome = 'applied' | 'duplicate' | 'repaired' | 'ignored';

export interface ProjectOrderEventDeps {
  table: OrderProjectionTable;
  store: Pick<EventStore, 'readStream'>;
}

/**
 * Applies one delivered order event to its read-model row.
 *
 * Delivery is at least once, concurrent and unordered, so the event's stream
 * version decides what happens:
 * - version 1 (every order's first event): nothing to read; the row is the
 *   fold of this one event, and the guarded upsert writes nothing when the
 *   row already exists (a duplicate);
 * - the row already has it (version ≤ row's): a duplicate, nothing to do;
 * - it is the next one: evolve the row's state by it (no store read on the
 *   hot path; the row is a lossless image of the state it was folded from);
 * - anything else (row missing past version 1, or behind by more than one):
 *   an event was delivered out of order, so refold the order from the event
 *   store up to this version.
 * Every write is a version-guarded upsert, so replicas and a rebuild can run
 * at once and the row converges on the highest version any of them wrote.
 */
export function projectOrderEvent(deps: ProjectOrderEventDeps) {
  return async (
    orderId: string,
    version: number | undefined,
    event: OrderEvent,
  ): Promise<ProjectionOutcome> => {
    if (version === undefined || !Number.isSafeInteger(version) || version < 1) {
      // Without its place in the stream an event cannot be ordered, ever.
      throw new PoisonMessageError(`order ${orderId}: ${event.type} has no valid streamversion (${version})`);
    }
    // A first event's row depends on nothing stored: skip the read (half the statements of a new order).
    const row = version === 1 ? undefined : (await deps.table.getOrders([orderId])).get(orderId);
    const next = advance(row, [{ version, event }]);
    switch (next) {
      case 'duplicate':
        return 'duplicate';
      case 'empty':
        return 'ignored';
      case 'gap':
        await repairFromStore({ events: deps.store, table: deps.table }, orderId, version);
        return 'repaired';
      default:
        return (await deps.table.upsertIfNewer([next])) > 0 ? 'applied' : 'duplicate';
    }
  };
}

export type ProjectOrderEvent = ReturnType<typeof projectOrderEvent>;

export interface OrderEventDelivery {
  orderId: string;
  version: number | undefined;
  event: OrderEvent;
}

/**
 * Applies a batch of delivered order events (stream order): one read of the rows that must exist
 * (orders whose events in the batch start past version 1), each order's events folded onto its row
 * in version order, and one guarded upsert for every order that moved. An order with a gap is
 * refolded from the store on its own. Outcomes come back per event, in order: an event without a
 * usable version is poison; every other event of the batch is applied (or a duplicate) together.
 */
export function projectOrderEvents(deps: ProjectOrderEventDeps) {
  return async (batch: readonly OrderEventDelivery[]): Promise<('applied' | 'poison')[]> => {
    const outcomes = batch.map((d) =>
      d.version === undefined || !Number.isSafeInteger(d.version) || d.version < 1 ? 'poison' : 'applied',
    );
    const byOrder = new Map<string, VersionedEvent[]>();
    for (const [i, d] of batch.entries()) {
      if (outcomes[i] === 'poison') continue;
      const events = byOrder.get(d.orderId) ?? [];
      events.push({ version: d.version!, event: d.event });
      byOrder.set(d.orderId, events);
    }
    // Only an order whose first event is not in the batch can have a row to read.
    const toRead = [...byOrder]
      .filter(([, events]) => Math.min(...events.map((e) => e.version)) > 1)
      .map(([id]) => id);
    const rows = toRead.length > 0 ? await deps.table.getOrders(toRead) : new Map();
    const moved: ProjectedOrder[] = [];
    for (const [orderId, events] of byOrder) {
      const next = advance(
        rows.get(orderId),
        events.sort((a, b) => a.version - b.version),
      );
      if (next === 'gap')
        await repairFromStore(
          { events: deps.store, table: deps.table },
          orderId,
          Math.max(...events.map((e) => e.version)),
        );
      else if (next !== 'duplicate' && next !== 'empty') moved.push(next);
    }
    if (moved.length > 0) await deps.table.upsertIfNewer(moved);
    return outcomes as ('applied' | 'poison')[];
  };
}

export type ProjectOrderEvents = ReturnType<typeof projectOrderEvents>;
