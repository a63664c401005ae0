import type { EventStore, StoredEvent } from '@conveyor/platform/core';
import { InvalidArgument, notFound } from '@conveyor/platform/errors';
import { requireUuid } from '@conveyor/platform/validation';
import { evolve, initialState, type OrderEvent } from '../domain/order.ts';
import { type Caller, requireOwnerOrAdmin } from './caller.ts';
import { decodeOrderEvent, orderStreamId } from './order-event-mapping.ts';
import { type OrderView, viewOf } from './order-view.ts';

export interface HistoryEntry {
  version: number;
  eventId: string;
  eventType: OrderEvent['type'];
  recordedAt: Date;
  data: unknown;
  /** The order after this event. */
  state: OrderView;
}

/**
 * Time travel reads the event store itself: the source of truth, not a projection, so a
 * just-placed order is there at once. One read serves the owner check and the answer.
 */
export function getOrderHistory(deps: { store: EventStore }) {
  return async (caller: Caller, rawOrderId: string): Promise<HistoryEntry[]> => {
    const orderId = requireUuid(rawOrderId, 'order_id');
    return ownHistory(caller, orderId, await deps.store.readStream(orderStreamId(orderId)));
  };
}

/** The order after `version` events, or as of an instant (events recorded at or before it). */
export function getOrderAt(deps: { store: EventStore }) {
  return async (
    caller: Caller,
    rawOrderId: string,
    at: { version?: number; time?: Date },
  ): Promise<OrderView> => {
    const orderId = requireUuid(rawOrderId, 'order_id');
    if ((at.version === undefined) === (at.time === undefined)) {
      throw new InvalidArgument('at', 'give exactly one of version or time');
    }
    if (at.version !== undefined && !(Number.isInteger(at.version) && at.version >= 1)) {
      throw new InvalidArgument('version', 'must be 1 or more');
    }
    const history = ownHistory(caller, orderId, await deps.store.readStream(orderStreamId(orderId)));
    if (at.version !== undefined) {
      const entry = history[at.version - 1];
      if (!entry) throw new InvalidArgument('version', `order ${orderId} has ${history.length} version(s)`);
      return entry.state;
    }
    const time = at.time as Date;
    const entry = history.filter((e) => e.recordedAt.getTime() <= time.getTime()).at(-1);
    if (!entry) throw notFound(`order ${orderId} as of ${time.toISOString()} (it was placed later)`);
    return entry.state;
  };
}

/** The order's history, for its owner or an admin; NOT_FOUND when it has no events. */
function ownHistory(caller: Caller, orderId: string, events: readonly StoredEvent[]): HistoryEntry[] {
  const history = replay(events);
  const first = history[0];
  if (!first) throw notFound(`order ${orderId}`);
  requireOwnerOrAdmin(caller, first.state.userId, `order ${orderId}`);
  return history;
}

function replay(events: readonly StoredEvent[]): HistoryEntry[] {
  let state = initialState();
  return events.map((stored) => {
    const event = decodeOrderEvent(stored);
    state = evolve(state, event);
    return {
      version: stored.version,
      eventId: stored.eventId,
      eventType: event.type,
      recordedAt: stored.recordedAt,
      data: stored.data,
      state: viewOf(state, stored.version) as OrderView,
    };
  });
}
