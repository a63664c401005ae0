import type { JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Pool } from '../postgres/pool.ts';
import type { ConsumerControls } from './consumer-controls.ts';
import type { BatchHandler, EventConsumerOptions, RunningConsumer } from './event-consumer.ts';
import { SequencedDeadLetters } from './sequenced-dead-letters.ts';

export interface SequencedConsumersOptions {
  /** The durable consumer's name on every stream; also the sequences' (and an inbox's) consumer key. */
  durable: string;
  /** The streams read, each with the subjects of it the consumer takes. */
  streams: readonly { name: string; subjects: readonly string[] }[];
  handler: BatchHandler;
  nc: EventConsumerOptions['nc'];
  jsm: JetStreamManager;
  /** Where the sequenced dead letters are kept (ADR 0031). */
  pool: Pool;
  logger: Logger;
  registry?: Registry | undefined;
  /** An operator's pause, resume and reset (ADR 0033); also whether durables are only checked. */
  controls: ConsumerControls;
  /** Events handled together at most. */
  batchSize: number;
  /** Attempts before a delivery is dead-lettered (the durables' max_deliver). */
  maxDeliver: number;
  backoffMs: readonly number[];
  ackWaitMs: number;
}

export interface RunningSequencedConsumers {
  sequences: SequencedDeadLetters;
  /** Stops the consumers, then the sequences' background releases. */
  stop(): Promise<void>;
}

/**
 * A service's durable consumer on each of `streams` under the operator's controls, all handing
 * batches to one handler, with one set of sequences across them: a dead-lettered event parks the
 * later events of its key (ADR 0031), whichever stream they come from.
 */
export async function startSequencedConsumers(
  options: SequencedConsumersOptions,
): Promise<RunningSequencedConsumers> {
  const { durable, handler, logger, registry, maxDeliver, backoffMs } = options;
  const sequences = new SequencedDeadLetters({
    pool: options.pool,
    consumer: durable,
    handler,
    logger,
    maxDeliver,
    backoffMs,
    jsm: options.jsm,
    registry,
  });
  sequences.startSweeping();
  const consumers: RunningConsumer[] = [];
  for (const stream of options.streams) {
    consumers.push(
      await options.controls.startConsumer(
        {
          stream: stream.name,
          durable,
          filterSubjects: [...stream.subjects],
          maxDeliver,
          ackWaitMs: options.ackWaitMs,
          maxAckPending: options.batchSize * 4,
        },
        {
          nc: options.nc,
          handler: { batch: handler },
          logger,
          registry,
          batchSize: options.batchSize,
          backoffMs,
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
