import type { ConsumerControls } from './consumer-controls.ts';
import type { EventConsumerOptions, RunningConsumer } from './event-consumer.ts';
import { SequencedDeadLetters, type SequencedDeadLettersOptions } from './sequenced-dead-letters.ts';

export interface SequencedConsumersOptions extends Omit<SequencedDeadLettersOptions, 'pausedStreams'> {
  /** The streams read, each with the subjects of it taken; `consumer` is the durable's name on each. */
  streams: readonly { name: string; subjects: readonly string[] }[];
  nc: EventConsumerOptions['nc'];
  /** An operator's pause, resume and reset (ADR 0033); also whether durables are only checked. */
  controls: ConsumerControls;
  /** Events handled together at most. */
  batchSize: number;
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
  // Paused with its consumer: nothing parked is applied on a stream an operator paused (ADR 0033).
  const sequences = new SequencedDeadLetters({
    ...options,
    pausedStreams: () => options.controls.pausedStreams(options.consumer),
  });
  sequences.startSweeping();
  const consumers: RunningConsumer[] = [];
  for (const stream of options.streams) {
    consumers.push(
      await options.controls.startConsumer(
        {
          stream: stream.name,
          durable: options.consumer,
          filterSubjects: [...stream.subjects],
          maxDeliver: options.maxDeliver,
          ackWaitMs: options.ackWaitMs,
          maxAckPending: options.batchSize * 4,
        },
        {
          nc: options.nc,
          handler: { batch: options.handler },
          logger: options.logger,
          registry: options.registry,
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
