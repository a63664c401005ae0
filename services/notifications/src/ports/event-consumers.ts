import { Streams } from '@conveyor/contracts';
import {
  type RunningSequencedConsumers,
  type SequencedConsumersOptions,
  startSequencedConsumers,
} from '@conveyor/platform';

/**
 * The notification service's intake: one durable consumer on USERS and one on ORDERS (named
 * `consumer`, also the inbox's consumer key), both handing batches to `handler`, with one sequence
 * per user and per order across both, so a dead-lettered event parks the later events of its key
 * (ADR 0031).
 */
export function startEventConsumers(
  options: Omit<SequencedConsumersOptions, 'streams'>,
): Promise<RunningSequencedConsumers> {
  return startSequencedConsumers({ ...options, streams: [Streams.users, Streams.orders] });
}
