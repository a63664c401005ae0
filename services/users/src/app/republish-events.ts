import { outsideRepublishWindow } from '@conveyor/platform/core';
import { failedPrecondition, InvalidArgument } from '@conveyor/platform/errors';

/** users' event log in Postgres (issue 23): its newest position, and a range queued again. */
export interface EventLog {
  head(): Promise<number>;
  /** The first logged event at or after `position`, with when it was recorded. */
  first(position: number): Promise<{ position: number; recordedAt: Date } | undefined>;
  requeue(from: number, to: number): Promise<number>;
}

/**
 * Publishes users' events at positions [fromPosition, toPosition] again (0: the newest), through
 * the outbox: Postgres is the source of truth, NATS the transport (invariant 4). Ids are the
 * logged ones, so JetStream's duplicate window and consumers' inboxes absorb the copies.
 */
export function republishEvents(log: EventLog, now: () => Date) {
  return async (range: { fromPosition: number; toPosition: number }): Promise<number> => {
    if (!Number.isSafeInteger(range.fromPosition) || range.fromPosition < 1) {
      throw new InvalidArgument('from_position', 'must be 1 or more');
    }
    const to = range.toPosition || (await log.head());
    if (!Number.isSafeInteger(to) || to < range.fromPosition) {
      throw new InvalidArgument('to_position', 'must be 0 (the newest event) or at least from_position');
    }
    // Past the window, consumers' inboxes may have forgotten the event (ADR 0030).
    const oldest = await log.first(range.fromPosition);
    const refused =
      oldest && oldest.position <= to && outsideRepublishWindow(oldest.position, oldest.recordedAt, now());
    if (refused) throw failedPrecondition(refused);
    return log.requeue(range.fromPosition, to);
  };
}
