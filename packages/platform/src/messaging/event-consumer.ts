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
import { ownSequenceKey, type SequencedDeadLetters, sequenceKeyOf } from './sequenced-dead-letters.ts';

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
  /**
   * Sequenced dead letters (ADR 0031): a failing message parks the later messages of its key
   * in Postgres until it succeeds, is redriven or is discarded. Without it, keys are not tracked.
   */
  sequences?: SequencedDeadLetters | undefined;
}

export interface RunningConsumer {
  /** Stops pulling, waits for the batch in hand to finish. */
  stop(): Promise<void>;
}

/** A consumer an operator can pause and resume (ADR 0033): pausing stops pulling and finishes what is in hand. */
export interface PausableConsumer extends RunningConsumer {
  pause(): Promise<void>;
  resume(): Promise<void>;
  readonly paused: boolean;
}

/**
 * Pulls a durable consumer and hands its messages to the handler in batches: the first message
 * goes alone at once (a lone message is never delayed); messages arriving while a batch is handled
 * wait for it and form the next one, up to `batchSize`. One batch at a time, so the events of one
 * key are handled in stream order (except a retried one, which comes back later). Each message of a
 * batch ends on its own: acked, nak'ed with a delay, or dead-lettered; a handler that fails a whole
 * batch is given its messages one by one, so a poison or failing message never holds back or
 * dead-letters its batch-mates. Paused (`startPaused`, `pause()`), it pulls nothing.
 */
export async function startEventConsumer(
  options: EventConsumerOptions & { startPaused?: boolean },
): Promise<PausableConsumer> {
  const { logger, durable } = options;
  const js = jetstream(options.nc);
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
  /** Pulls until closed; answers how to close it and wait for what it pulled to be handled. */
  const pull = async () => {
    // Looked up at each start: a reset recreates the durable under the same name.
    const consumer = await js.consumers.get(options.stream, durable);
    const messages = await consumer.consume({ max_messages: batchSize * 2 });
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
    return async () => {
      await messages.close();
      room?.();
      await loop;
      while (running) await running;
    };
  };
  let close = options.startPaused ? undefined : await pull();
  // Pause, resume and stop take turns.
  let turn: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const inTurn = (work: () => Promise<void>) => {
    const next = turn.then(work);
    turn = next.catch(() => undefined);
    return next;
  };
  const closePull = async () => {
    const closing = close;
    close = undefined;
    await closing?.();
  };

  logger.info(
    { stream: options.stream, durable, batchSize, paused: close === undefined },
    'consumer started',
  );
  return {
    get paused() {
      return close === undefined;
    },
    pause: () =>
      inTurn(async () => {
        if (!close) return;
        await closePull();
        logger.warn({ stream: options.stream, durable }, 'consumer paused');
      }),
    resume: () =>
      inTurn(async () => {
        if (close || stopped) return;
        close = await pull();
        logger.warn({ stream: options.stream, durable }, 'consumer resumed');
      }),
    stop: () =>
      inTurn(async () => {
        stopped = true;
        unwatch?.();
        await closePull();
        logger.info({ durable }, 'consumer stopped');
      }),
  };
}

type Outcome = 'ack' | 'retry' | 'dead_letter' | 'parked';

interface InHand {
  msg: JsMsg;
  headers: Map<string, string>;
  delivery: Delivery;
  received?: ReceivedEvent;
  /** Its sequence (ADR 0031), when the consumer keeps sequenced dead letters. */
  key?: string;
  /** It heads its key's parked messages (a retried head coming back). */
  heads?: boolean;
  outcome: HandlingOutcome | { kind: 'park' };
}

async function handleBatch(
  js: JetStreamClient,
  msgs: JsMsg[],
  handle: BatchHandler,
  options: EventConsumerOptions,
  metrics: ReturnType<typeof consumerMetrics> | undefined,
): Promise<void> {
  const started = performance.now();
  const inHand: InHand[] = msgs.map((msg) => {
    const headers = new Map<string, string>();
    for (const [key, values] of msg.headers ?? []) headers.set(key, values[0] ?? '');
    const delivery: Delivery = {
      subject: msg.subject,
      stream: msg.info.stream,
      streamSequence: msg.info.streamSequence,
      deliveryCount: msg.info.deliveryCount,
    };
    const one: InHand = { msg, headers, delivery, outcome: { kind: 'ack' } };
    try {
      one.received = { event: decodeEvent(headers, msg.data), delivery };
    } catch (error) {
      one.outcome = outcomeOfError(
        error instanceof PoisonMessageError ? error : new PoisonMessageError(String(error)),
      );
    }
    return one;
  });
  const sequences = options.sequences;
  let toHandle = inHand.filter((m) => m.received);
  if (sequences) {
    for (const m of inHand) {
      // Undecodable: dead under its own id, so what it claims cannot park another key.
      m.key =
        (m.received && sequenceKeyOf(m.received.event)) ??
        ownSequenceKey(m.delivery.stream, m.delivery.streamSequence);
    }
    try {
      const heads = await sequences.heads([...new Set(toHandle.map((m) => m.key as string))]);
      for (const m of toHandle) {
        const head = heads.get(m.key as string);
        if (!head) continue;
        m.heads = head.stream === m.delivery.stream && head.streamSequence === m.delivery.streamSequence;
        if (!m.heads) m.outcome = { kind: 'park' };
      }
    } catch (error) {
      for (const m of toHandle)
        m.outcome = { kind: 'retry', reason: `sequence lookup failed: ${(error as Error).message}` };
    }
    toHandle = toHandle.filter((m) => m.outcome.kind === 'ack');
  }
  // In rounds: the n-th message of a key goes in round n, after the earlier ones ended, and is
  // parked when one of them failed. Without sequences, one round.
  const failedKeys = new Set<string>();
  while (toHandle.length > 0) {
    const seen = new Set<string>();
    const round: InHand[] = [];
    const later: InHand[] = [];
    for (const m of toHandle) {
      if (m.key !== undefined && failedKeys.has(m.key)) m.outcome = { kind: 'park' };
      else if (m.key !== undefined && seen.has(m.key)) later.push(m);
      else {
        round.push(m);
        if (m.key !== undefined) seen.add(m.key);
      }
    }
    // All that was left waits behind a key that failed in this batch.
    if (round.length === 0) break;
    const results = await processBatchInSpan(
      round.map((m) => m.msg),
      options.durable,
      () =>
        runIsolated(
          handle,
          round.map((m) => m.received as ReceivedEvent),
        ),
    );
    for (const [i, m] of round.entries()) {
      m.outcome = results[i] ?? { kind: 'retry', reason: 'no outcome' };
      if (m.outcome.kind !== 'ack' && m.key !== undefined) failedKeys.add(m.key);
    }
    toHandle = later;
  }
  const seconds = (performance.now() - started) / 1000;
  const record = (m: InHand, outcome: Outcome) => {
    const otel = {
      messaging_system: 'nats',
      messaging_destination_name: m.msg.subject,
      messaging_consumer_group_name: options.durable,
    };
    metrics?.handled.inc({ consumer: options.durable, subject: m.msg.subject, outcome });
    metrics?.duration.observe({ consumer: options.durable, subject: m.msg.subject }, seconds);
    metrics?.consumed.inc({ ...otel, outcome });
    metrics?.processDuration.observe(otel, seconds);
  };
  // Heads first: a message parks only behind a head that is stored.
  const heads = inHand.filter((m) => m.outcome.kind !== 'park');
  await Promise.all(
    heads.map(async (m) => record(m, await finish(js, m, m.outcome as HandlingOutcome, options))),
  );
  await Promise.all(
    inHand.filter((m) => m.outcome.kind === 'park').map(async (m) => record(m, await park(m, options))),
  );
  metrics?.batch.observe({ consumer: options.durable }, inHand.length);
}

/** Stores a message behind its key's head and acknowledges it; lets it come again when the key was freed meanwhile. */
async function park(m: InHand, options: EventConsumerOptions): Promise<Outcome> {
  const sequences = options.sequences as SequencedDeadLetters;
  try {
    const parked = await sequences.park(
      m.key as string,
      storedMessage(m),
      'waits behind a failed message of its key',
    );
    if (!parked) {
      m.msg.nak();
      return 'retry';
    }
    m.msg.ack();
    options.logger.info(
      { subject: m.msg.subject, seq: m.delivery.streamSequence, key: m.key },
      'parked behind its key',
    );
    return 'parked';
  } catch (error) {
    m.msg.nak(backoffStep(options.backoffMs, m.delivery.deliveryCount));
    options.logger.error({ err: error, subject: m.msg.subject }, 'parking failed; will retry');
    return 'retry';
  }
}

function storedMessage(m: InHand) {
  return {
    stream: m.delivery.stream,
    streamSequence: m.delivery.streamSequence,
    subject: m.delivery.subject,
    headers: m.headers,
    payload: m.msg.data,
    deliveries: m.delivery.deliveryCount,
  };
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

/**
 * Acks, naks or dead-letters one message; returns the outcome recorded in metrics. With
 * sequences, a failing message becomes its key's head (retrying, or dead), and a head that
 * succeeded releases what waited behind it.
 */
async function finish(
  js: JetStreamClient,
  m: InHand,
  outcome: HandlingOutcome,
  options: EventConsumerOptions,
): Promise<Outcome> {
  const { msg, headers, delivery } = m;
  const sequences = options.sequences;
  const final = settleOutcome(outcome, delivery, options);
  const log = () =>
    options.logger.child({ subject: msg.subject, seq: delivery.streamSequence, ceId: headers.get('ce-id') });
  if (final.kind === 'ack') {
    msg.ack();
    if (m.heads && sequences) sequences.resolved(m.key as string, delivery);
    return 'ack';
  }
  if (final.kind === 'nak') {
    try {
      await sequences?.hold(m.key as string, storedMessage(m), { state: 'retrying', reason: final.reason });
    } catch (error) {
      log().error({ err: error }, 'could not hold its key; later messages of the key are not parked');
    }
    msg.nak(final.delayMs);
    log().warn(
      { reason: final.reason, attempt: delivery.deliveryCount, retryInMs: final.delayMs },
      'handler failed; will retry',
    );
    return 'retry';
  }
  try {
    const copySeq = await publishDeadLetter(js, {
      consumer: options.durable,
      ...delivery,
      deliveries: delivery.deliveryCount,
      attempts: final.attempts,
      headers,
      data: msg.data,
      reason: final.reason,
    });
    await sequences?.hold(m.key as string, storedMessage(m), {
      state: 'dead',
      reason: final.reason,
      attempts: final.attempts,
      copySeq,
    });
    // No reason argument: nats-server before 2.10.4 (Debian 12 ships 2.9)
    // ignores a +TERM with a reason and redelivers. The reason is in the dead letter.
    msg.term();
    log().warn({ reason: withoutAddresses(final.reason), key: m.key }, 'dead-lettered');
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
      help: 'Events handled by a consumer, by outcome (ack, retry, dead_letter, parked).',
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
