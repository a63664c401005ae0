import { type JetStreamClient, type JsMsg, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { counter, histogram } from '../observability/metrics.ts';
import { type CloudEvent, decodeEvent, PoisonMessageError } from './cloud-event.ts';
import { messagingMetrics, type Outcome, processInSpan, watchConsumer } from './consumer-telemetry.ts';
import { publishDeadLetter } from './dead-letters.ts';

export interface Delivery {
  subject: string;
  stream: string;
  streamSequence: number;
  /** 1 on the first delivery. */
  deliveryCount: number;
}

/**
 * Handles one event. Contract: it may be called more than once for the same
 * event (at-least-once delivery), concurrently with other events, and in an
 * order other than publication order; it must make its effect idempotent
 * (see recordInInbox). Resolve = done (ack). Throw PoisonMessageError = never
 * retry (dead-letter now). Throw GiveUp = the handler's own retry budget is
 * spent (dead-letter now). Throw RetryLater = retry after its delay. Throw
 * anything else = retry later with backoff. Whatever it throws on the last
 * delivery (max_deliver) dead-letters the message.
 */
export type EventHandler = (event: CloudEvent, delivery: Delivery) => Promise<void>;

/**
 * Thrown by a handler that wants the message again after `delayMs` rather
 * than after the consumer's backoff step for this delivery (e.g. a circuit
 * breaker knows when it will let sends through again).
 */
export class RetryLater extends Error {
  override name = 'RetryLater';
  readonly delayMs: number;
  constructor(message: string, delayMs: number) {
    super(message);
    this.delayMs = delayMs;
  }
}

/**
 * Thrown by a handler that keeps its own attempt count and has spent it: the
 * message is dead-lettered now with this message as its reason, and
 * `attempts`, when given, in the Conveyor-Attempts header.
 */
export class GiveUp extends Error {
  override name = 'GiveUp';
  readonly attempts: number | undefined;
  constructor(message: string, attempts?: number) {
    super(message);
    this.attempts = attempts;
  }
}

export interface EventConsumerOptions {
  nc: NatsConnection;
  stream: string;
  durable: string;
  handler: EventHandler;
  logger: Logger;
  registry?: Registry;
  /** Messages handled at once. */
  concurrency?: number;
  /** Must equal the consumer's max_deliver: the last attempt dead-letters. */
  maxDeliver: number;
  /** Nak delays by attempt; the last repeats. */
  backoffMs: readonly number[];
}

export interface RunningConsumer {
  /** Stops pulling, waits for messages in hand to finish. */
  stop(): Promise<void>;
}

export async function startEventConsumer(options: EventConsumerOptions): Promise<RunningConsumer> {
  const { logger, durable } = options;
  const js = jetstream(options.nc);
  const consumer = await js.consumers.get(options.stream, durable);
  const concurrency = options.concurrency ?? 16;
  const metrics = options.registry && consumerMetrics(options.registry);
  const unwatch =
    options.registry &&
    watchConsumer(options.registry, {
      jsm: await jetstreamManager(options.nc, { timeout: 1000, checkAPI: false }),
      stream: options.stream,
      durable,
    });
  const messages = await consumer.consume({ max_messages: concurrency });
  const inFlight = new Set<Promise<void>>();
  let slotFreed: (() => void) | undefined;

  const loop = (async () => {
    for await (const msg of messages) {
      while (inFlight.size >= concurrency) {
        await new Promise<void>((resolve) => {
          slotFreed = resolve;
        });
      }
      const work = processInSpan(msg, durable, () => handleMessage(js, msg, options, metrics))
        .then(
          () => {},
          (error) => logger.error({ err: error, durable }, 'message handling failed'),
        )
        .finally(() => {
          inFlight.delete(work);
          slotFreed?.();
        });
      inFlight.add(work);
    }
  })().catch((error) => logger.error({ err: error, durable }, 'consumer loop ended with an error'));

  logger.info({ stream: options.stream, durable }, 'consumer started');
  return {
    async stop() {
      unwatch?.();
      await messages.close();
      await loop;
      await Promise.allSettled([...inFlight]);
      logger.info({ durable }, 'consumer stopped');
    },
  };
}

async function handleMessage(
  js: JetStreamClient,
  msg: JsMsg,
  options: EventConsumerOptions,
  metrics: ReturnType<typeof consumerMetrics> | undefined,
): Promise<Outcome> {
  const delivery: Delivery = {
    subject: msg.subject,
    stream: msg.info.stream,
    streamSequence: msg.info.streamSequence,
    deliveryCount: msg.info.deliveryCount,
  };
  const headers = new Map<string, string>();
  for (const [key, values] of msg.headers ?? []) headers.set(key, values[0] ?? '');
  const log = options.logger.child({
    subject: msg.subject,
    seq: delivery.streamSequence,
    ceId: headers.get('ce-id'),
  });
  const started = performance.now();
  log.debug({ attempt: delivery.deliveryCount }, 'received');
  let outcome: Outcome = 'ack';
  try {
    const event = decodeEvent(headers, msg.data);
    await options.handler(event, delivery);
    crashBeforeAckForTests(options.durable);
    msg.ack();
  } catch (error) {
    const poison = error instanceof PoisonMessageError;
    const givenUp = error instanceof GiveUp;
    const lastAttempt = delivery.deliveryCount >= options.maxDeliver;
    if (poison || givenUp || lastAttempt) {
      outcome = 'dead_letter';
      const cause = poison
        ? 'poison'
        : givenUp
          ? 'gave up'
          : `failed after ${delivery.deliveryCount} attempts`;
      const reason = `${cause}: ${(error as Error).message}`;
      try {
        await publishDeadLetter(js, {
          consumer: options.durable,
          ...delivery,
          deliveries: delivery.deliveryCount,
          attempts: error instanceof GiveUp ? error.attempts : undefined,
          headers,
          data: msg.data,
          reason,
        });
        // No reason argument: nats-server before 2.10.4 (Debian 12 ships 2.9)
        // ignores a +TERM with a reason and redelivers. The reason is in the dead letter.
        msg.term();
        log.warn({ reason }, 'dead-lettered');
      } catch (dlqError) {
        // Not stored as a dead letter: keep the original for another try.
        outcome = 'retry';
        msg.nak(delayFor(options.backoffMs, delivery.deliveryCount));
        log.error({ err: dlqError }, 'dead-lettering failed; will retry');
      }
    } else {
      outcome = 'retry';
      const delay =
        error instanceof RetryLater ? error.delayMs : delayFor(options.backoffMs, delivery.deliveryCount);
      msg.nak(delay);
      log.warn(
        { err: error, attempt: delivery.deliveryCount, retryInMs: delay },
        'handler failed; will retry',
      );
    }
  } finally {
    metrics?.handled.inc({ consumer: options.durable, subject: msg.subject, outcome });
    const seconds = (performance.now() - started) / 1000;
    metrics?.duration.observe({ consumer: options.durable, subject: msg.subject }, seconds);
    const otel = {
      messaging_system: 'nats',
      messaging_destination_name: msg.subject,
      messaging_consumer_group_name: options.durable,
    };
    metrics?.consumed.inc({ ...otel, outcome });
    metrics?.processDuration.observe(otel, seconds);
  }
  return outcome;
}

function delayFor(backoffMs: readonly number[], attempt: number): number {
  return backoffMs[Math.min(attempt - 1, backoffMs.length - 1)] ?? 1000;
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
      help: 'Time spent handling one delivery.',
      labelNames: ['consumer', 'subject'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    }),
  };
}

/**
 * TEST-ONLY fault hook for the chaos suite (test/chaos): with
 * CONVEYOR_TEST_CRASH_BEFORE_ACK=<durable>:<n>, the process SIGKILLs itself
 * after the n-th handled message of that consumer, after its effect and
 * before its ack. Never set it in production.
 */
const crashBeforeAck = /^([\w-]+):([1-9]\d*)$/.exec(process.env.CONVEYOR_TEST_CRASH_BEFORE_ACK ?? '');
let handledBeforeCrash = 0;
function crashBeforeAckForTests(durable: string): void {
  if (crashBeforeAck?.[1] !== durable) return;
  if (++handledBeforeCrash >= Number(crashBeforeAck[2])) process.kill(process.pid, 'SIGKILL');
}
