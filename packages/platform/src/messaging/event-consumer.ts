import { type JetStreamClient, type JsMsg, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { counter, histogram } from '../observability/metrics.ts';
import { withoutAddresses } from '../observability/personal-data.ts';
import { decodeEvent, PoisonMessageError } from './cloud-event.ts';
import { messagingMetrics, processBatchInSpan, watchConsumer } from './consumer-telemetry.ts';
import { publishDeadLetter } from './dead-letters.ts';
import {
  type BatchHandler,
  backoffStep,
  type Delivery,
  type EventHandler,
  eachEvent,
  type HandlingOutcome,
  outcomeOfError,
  type ReceivedEvent,
  settleOutcome,
} from './handling-outcome.ts';

export {
  type BatchHandler,
  type Delivery,
  type EventHandler,
  GiveUp,
  type HandlingOutcome,
  handleAgain,
  outcomeOfError,
  type ReceivedEvent,
  RetryLater,
} from './handling-outcome.ts';

export interface EventConsumerOptions {
  nc: NatsConnection;
  stream: string;
  durable: string;
  /** The events of a batch at once (a batch handler), or one at a time (an event handler, run concurrently). */
  handler: EventHandler | { batch: BatchHandler };
  logger: Logger;
  registry?: Registry;
  /** Messages in one batch at most (and twice that pulled ahead). */
  batchSize?: number;
  /** Must equal the consumer's max_deliver: the last attempt dead-letters. */
  maxDeliver: number;
  /** Nak delays by attempt; the last repeats. */
  backoffMs: readonly number[];
}

export interface RunningConsumer {
  /** Stops pulling, waits for the batch in hand to finish. */
  stop(): Promise<void>;
}

/**
 * Pulls a durable consumer and hands its messages to the handler in batches: the first message
 * goes alone at once (a lone message is never delayed); messages arriving while a batch is handled
 * wait for it and form the next one, up to `batchSize`. One batch at a time, so the events of one
 * key are handled in stream order (except a retried one, which comes back later). Each message of a
 * batch ends on its own: acked, nak'ed with a delay, or dead-lettered; a handler that fails a whole
 * batch is given its messages one by one, so a poison or failing message never holds back or
 * dead-letters its batch-mates.
 */
export async function startEventConsumer(options: EventConsumerOptions): Promise<RunningConsumer> {
  const { logger, durable } = options;
  const js = jetstream(options.nc);
  const consumer = await js.consumers.get(options.stream, durable);
  const batchSize = options.batchSize ?? 16;
  const handle = typeof options.handler === 'function' ? eachEvent(options.handler) : options.handler.batch;
  const metrics = options.registry && consumerMetrics(options.registry);
  const unwatch =
    options.registry &&
    watchConsumer(options.registry, {
      jsm: await jetstreamManager(options.nc, { timeout: 1000, checkAPI: false }),
      stream: options.stream,
      durable,
    });
  const messages = await consumer.consume({ max_messages: batchSize * 2 });
  const pending: JsMsg[] = [];
  let running: Promise<void> | undefined;
  let room: (() => void) | undefined;

  const drainPending = async () => {
    while (pending.length > 0) {
      const batch = pending.splice(0, batchSize);
      room?.();
      await handleBatch(js, batch, handle, options, metrics).catch((error) =>
        logger.error({ err: error, durable }, 'batch handling failed'),
      );
    }
  };
  const loop = (async () => {
    for await (const msg of messages) {
      pending.push(msg);
      running ??= drainPending().finally(() => {
        running = undefined;
      });
      // Backpressure: pull no further than one batch ahead of the one in hand.
      while (pending.length >= batchSize) await new Promise<void>((resolve) => (room = resolve));
    }
  })().catch((error) => logger.error({ err: error, durable }, 'consumer loop ended with an error'));

  logger.info({ stream: options.stream, durable, batchSize }, 'consumer started');
  return {
    async stop() {
      unwatch?.();
      await messages.close();
      room?.();
      await loop;
      while (running) await running;
      logger.info({ durable }, 'consumer stopped');
    },
  };
}

async function handleBatch(
  js: JetStreamClient,
  msgs: JsMsg[],
  handle: BatchHandler,
  options: EventConsumerOptions,
  metrics: ReturnType<typeof consumerMetrics> | undefined,
): Promise<void> {
  const started = performance.now();
  const decoded: {
    msg: JsMsg;
    headers: Map<string, string>;
    delivery: Delivery;
    received?: ReceivedEvent;
  }[] = msgs.map((msg) => {
    const headers = new Map<string, string>();
    for (const [key, values] of msg.headers ?? []) headers.set(key, values[0] ?? '');
    const delivery: Delivery = {
      subject: msg.subject,
      stream: msg.info.stream,
      streamSequence: msg.info.streamSequence,
      deliveryCount: msg.info.deliveryCount,
    };
    return { msg, headers, delivery };
  });
  const outcomes: HandlingOutcome[] = decoded.map((d) => {
    try {
      d.received = { event: decodeEvent(d.headers, d.msg.data), delivery: d.delivery };
      return { kind: 'ack' };
    } catch (error) {
      return outcomeOfError(
        error instanceof PoisonMessageError ? error : new PoisonMessageError(String(error)),
      );
    }
  });
  const handled = decoded.flatMap((d, i) => (d.received ? [{ i, received: d.received }] : []));
  if (handled.length > 0) {
    const results = await processBatchInSpan(
      decoded.map((d) => d.msg),
      options.durable,
      () =>
        runIsolated(
          handle,
          handled.map((h) => h.received),
        ),
    );
    for (const [j, h] of handled.entries())
      outcomes[h.i] = results[j] ?? { kind: 'retry', reason: 'no outcome' };
  }
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(
    decoded.map(async (d, i) => {
      const outcome = await finish(js, d.msg, d.headers, d.delivery, outcomes[i]!, options);
      const otel = {
        messaging_system: 'nats',
        messaging_destination_name: d.msg.subject,
        messaging_consumer_group_name: options.durable,
      };
      metrics?.handled.inc({ consumer: options.durable, subject: d.msg.subject, outcome });
      metrics?.duration.observe({ consumer: options.durable, subject: d.msg.subject }, seconds);
      metrics?.consumed.inc({ ...otel, outcome });
      metrics?.processDuration.observe(otel, seconds);
    }),
  );
  metrics?.batch.observe({ consumer: options.durable }, decoded.length);
}

/** The batch at once; when it throws, each message alone, so only the bad one fails. */
async function runIsolated(handle: BatchHandler, batch: ReceivedEvent[]): Promise<HandlingOutcome[]> {
  try {
    return await handle(batch);
  } catch (error) {
    if (batch.length === 1) return [outcomeOfError(error)];
    const alone: HandlingOutcome[] = [];
    for (const one of batch) {
      alone.push(
        await handle([one]).then(
          (r) => r[0] ?? { kind: 'retry', reason: 'no outcome' },
          (e: unknown) => outcomeOfError(e),
        ),
      );
    }
    return alone;
  }
}

/** Acks, naks or dead-letters one message; returns the outcome recorded in metrics. */
async function finish(
  js: JetStreamClient,
  msg: JsMsg,
  headers: Map<string, string>,
  delivery: Delivery,
  outcome: HandlingOutcome,
  options: EventConsumerOptions,
): Promise<'ack' | 'retry' | 'dead_letter'> {
  const final = settleOutcome(outcome, delivery, options);
  const log = () =>
    options.logger.child({ subject: msg.subject, seq: delivery.streamSequence, ceId: headers.get('ce-id') });
  if (final.kind === 'ack') {
    msg.ack();
    return 'ack';
  }
  if (final.kind === 'nak') {
    msg.nak(final.delayMs);
    log().warn(
      { reason: final.reason, attempt: delivery.deliveryCount, retryInMs: final.delayMs },
      'handler failed; will retry',
    );
    return 'retry';
  }
  try {
    await publishDeadLetter(js, {
      consumer: options.durable,
      ...delivery,
      deliveries: delivery.deliveryCount,
      attempts: final.attempts,
      headers,
      data: msg.data,
      reason: final.reason,
    });
    // No reason argument: nats-server before 2.10.4 (Debian 12 ships 2.9)
    // ignores a +TERM with a reason and redelivers. The reason is in the dead letter.
    msg.term();
    log().warn({ reason: withoutAddresses(final.reason) }, 'dead-lettered');
    return 'dead_letter';
  } catch (error) {
    // Not stored as a dead letter: keep the original for another try.
    msg.nak(backoffStep(options.backoffMs, delivery.deliveryCount));
    log().error({ err: error }, 'dead-lettering failed; will retry');
    return 'retry';
  }
}

function consumerMetrics(registry: Registry) {
  const otel = messagingMetrics(registry);
  return {
    consumed: otel.consumed,
    processDuration: otel.duration,
    handled: counter(registry, {
      name: 'conveyor_events_consumed_total',
      help: 'Events handled by a consumer, by outcome (ack, retry, dead_letter).',
      labelNames: ['consumer', 'subject', 'outcome'],
    }),
    duration: histogram(registry, {
      name: 'conveyor_event_handler_duration_seconds',
      help: 'Time spent handling the batch a delivery came in.',
      labelNames: ['consumer', 'subject'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    }),
    batch: histogram(registry, {
      name: 'conveyor_consumer_batch_size',
      help: 'Messages handled together in one batch.',
      labelNames: ['consumer'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    }),
  };
}
