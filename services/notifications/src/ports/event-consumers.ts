import { Streams } from '@conveyor/contracts';
import {
  type BatchHandler,
  type ConsumerControls,
  type EventConsumerOptions,
  type Pool,
  type RunningConsumer,
  SequencedDeadLetters,
} from '@conveyor/platform';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface EventConsumersOptions {
  /** The durable consumer's name on both streams; also the inbox's consumer key. */
  consumer: string;
  handler: BatchHandler;
  nc: EventConsumerOptions['nc'];
  jsm: JetStreamManager;
  /** Where the sequenced dead letters are kept (ADR 0031). */
  pool: Pool;
  logger: Logger;
  registry: Registry;
  /** An operator's pause, resume and reset (ADR 0033); also whether durables are only checked. */
  controls: ConsumerControls;
  /** Events handled together at most. */
  batchSize: number;
  /** Attempts before a delivery is dead-lettered (the consumers' max_deliver). */
  maxDeliver: number;
  backoffMs: readonly number[];
  ackWaitMs: number;
}

/**
 * The notification service's intake: one durable consumer on USERS and one on ORDERS, both
 * handing batches to `handler`, with one sequence per user and per order across both, so a
 * dead-lettered event parks the later events of its key (ADR 0031).
 */
export async function startEventConsumers(
  options: EventConsumersOptions,
): Promise<{ sequences: SequencedDeadLetters; stop(): Promise<void> }> {
  const { consumer, handler, logger, registry } = options;
  const sequences = new SequencedDeadLetters({
    pool: options.pool,
    consumer,
    handler,
    logger,
    maxDeliver: options.maxDeliver,
    backoffMs: options.backoffMs,
    jsm: options.jsm,
    registry,
  });
  sequences.startSweeping();
  const consumers: RunningConsumer[] = [];
  for (const stream of [Streams.users, Streams.orders]) {
    consumers.push(
      await options.controls.startConsumer(
        {
          stream: stream.name,
          durable: consumer,
          filterSubjects: [...stream.subjects],
          maxDeliver: options.maxDeliver,
          ackWaitMs: options.ackWaitMs,
          maxAckPending: options.batchSize * 4,
        },
        {
          nc: options.nc,
          handler: { batch: handler },
          logger,
          registry,
          batchSize: options.batchSize,
          backoffMs: options.backoffMs,
          sequences,
        },
      ),
    );
  }
  return {
    sequences,
    async stop() {
      await Promise.all(consumers.map((c) => c.stop()));
      await sequences.stop();
    },
  };
}
