import type { CloudEvent, EventStore, StoredEvent } from '@conveyor/platform/core';
import { outsideRepublishWindow } from '@conveyor/platform/core';
import { failedPrecondition, InvalidArgument } from '@conveyor/platform/errors';
import { evolve, initialState } from '../domain/order.ts';
import { decodeOrderEvent, toIntegrationEvent } from './order-event-mapping.ts';

/** Where republished events go: the outbox, so the relay publishes them as usual. */
export type Requeue = (events: readonly CloudEvent[]) => Promise<number>;

const batch = 1000;

/**
 * Re-publishes the integration events of the stored events in
 * [fromPosition, toPosition]: Postgres is the source of truth, NATS is
 * transport (invariant 4). Ids are the stored ids, so JetStream's duplicate
 * window and the consumers' inboxes and version checks absorb the copies. A range reaching
 * back past the republish window is refused (ADR 0030).
 */
export function republishEvents(deps: { store: EventStore; requeue: Requeue; now: () => Date }) {
  return async (range: { fromPosition: number; toPosition: number }): Promise<number> => {
    if (!Number.isSafeInteger(range.fromPosition) || range.fromPosition < 1) {
      throw new InvalidArgument('from_position', 'must be 1 or more');
    }
    const to = range.toPosition || (await deps.store.headPosition());
    if (!Number.isSafeInteger(to) || to < range.fromPosition) {
      throw new InvalidArgument('to_position', 'must be 0 (the newest event) or at least from_position');
    }
    // The oldest event of the range decides (positions grow with time): past the window,
    // consumers' inboxes may have forgotten it (ADR 0030).
    const [oldest] = await deps.store.readAll({ afterPosition: range.fromPosition - 1, limit: 1 });
    const refused =
      oldest &&
      oldest.position <= to &&
      outsideRepublishWindow(oldest.position, oldest.recordedAt, deps.now());
    if (refused) throw failedPrecondition(refused);
    let queued = 0;
    let after = range.fromPosition - 1;
    while (after < to) {
      const events = (await deps.store.readAll({ afterPosition: after, limit: batch })).filter(
        (e) => e.position <= to,
      );
      if (events.length === 0) break;
      queued += await deps.requeue(await integrationEventsOf(deps.store, events));
      after = events.at(-1)!.position;
    }
    return queued;
  };
}

/** Order id and user id come from the stream's first event, so each stream is read once. */
async function integrationEventsOf(store: EventStore, events: readonly StoredEvent[]): Promise<CloudEvent[]> {
  const owners = new Map<string, { orderId: string; userId: string }>();
  for (const streamId of new Set(events.map((e) => e.streamId))) {
    const [first] = await store.readStream(streamId, { toVersion: 1 });
    const state = first ? evolve(initialState(), decodeOrderEvent(first)) : initialState();
    if (state.status !== 'none') owners.set(streamId, { orderId: state.orderId, userId: state.userId });
  }
  return events.flatMap((stored) => {
    const owner = owners.get(stored.streamId);
    if (!owner) return [];
    return [
      toIntegrationEvent(decodeOrderEvent(stored), {
        eventId: stored.eventId,
        ...owner,
        version: stored.version,
        ...(stored.metadata.traceparent ? { traceparent: stored.metadata.traceparent } : {}),
      }),
    ];
  });
}
