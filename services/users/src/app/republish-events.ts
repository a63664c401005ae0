import { InvalidArgument } from '@conveyor/platform/errors';

/** users' event log in Postgres (issue 23): its newest position, and a range queued again. */
export interface EventLog {
  head(): Promise<number>;
  requeue(from: number, to: number): Promise<number>;
}

/**
 * Publishes users' events at positions [fromPosition, toPosition] again (0: the newest), through
 * the outbox: Postgres is the source of truth, NATS the transport (invariant 4). Ids are the
 * logged ones, so JetStream's duplicate window and consumers' inboxes absorb the copies.
 */
export function republishEvents(log: EventLog) {
  return async (range: { fromPosition: number; toPosition: number }): Promise<number> => {
    if (!Number.isSafeInteger(range.fromPosition) || range.fromPosition < 1) {
      throw new InvalidArgument('from_position', 'must be 1 or more');
    }
    const to = range.toPosition || (await log.head());
    if (!Number.isSafeInteger(to) || to < range.fromPosition) {
      throw new InvalidArgument('to_position', 'must be 0 (the newest event) or at least from_position');
    }
    return log.requeue(range.fromPosition, to);
  };
}
