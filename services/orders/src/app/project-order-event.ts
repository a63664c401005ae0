import { type EventStore, PoisonMessageError } from '@conveyor/platform';
import type { OrderEvent } from '../domain/order.ts';
import { advance, type OrderProjectionTable, repairFromStore } from './order-projection.ts';

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
