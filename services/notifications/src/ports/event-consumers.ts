import { Streams } from '@conveyor/contracts';
import {
  type RunningSequencedConsumers,
  type SequencedConsumersOptions,
  startSequencedConsumers,
} from '@conveyor/platform';

export interface EventConsumersOptions extends Omit<SequencedConsumersOptions, 'durable' | 'streams'> {
  /** The durable consumer's name on both streams; also the inbox's consumer key. */
  consumer: string;
}

/**
 * The notification service's intake: one durable consumer on USERS and one on ORDERS, both
 * handing batches to `handler`, with one sequence per user and per order across both, so a
 * dead-lettered event parks the later events of its key (ADR 0031).
 */
export function startEventConsumers({
  consumer,
  ...options
}: EventConsumersOptions): Promise<RunningSequencedConsumers> {
  return startSequencedConsumers({ ...options, durable: consumer, streams: [Streams.users, Streams.orders] });
}
