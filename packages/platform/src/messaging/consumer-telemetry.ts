import { Streams } from '@conveyor/contracts';
import type { ConsumerInfo, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import { counter, gauge, histogram } from '../observability/metrics.ts';
import { contextFromTraceparent, linkTo, tracer, withLogContext } from '../observability/telemetry.ts';

/**
 * Runs the handling of a batch inside one CONSUMER `process` span (messaging semconv). A batch of
 * one is a child of its publisher's span (named by the message's `traceparent`), so a lone order's
 * trace runs unbroken from PlaceOrder to the mail; a larger batch links to each message's context
 * (the OpenTelemetry convention for batch processing) and counts them. The consumer and, for a
 * batch of one, the subject and event id go into the log context.
 */
export async function processBatchInSpan<T>(
  msgs: readonly JsMsg[],
  durable: string,
  handle: () => Promise<T>,
): Promise<T> {
  const first = msgs[0]!;
  const one = msgs.length === 1;
  const traceOf = (msg: JsMsg) => ({
    traceparent: msg.headers?.get('traceparent') || undefined,
    tracestate: msg.headers?.get('tracestate') || undefined,
  });
  const parent = one
    ? contextFromTraceparent(traceOf(first).traceparent, traceOf(first).tracestate)
    : context.active();
  const eventId = one ? first.headers?.get('ce-id') || undefined : undefined;
  const subjects = new Set(msgs.map((m) => m.subject));
  const subject = subjects.size === 1 ? first.subject : 'batch';
  const span = tracer().startSpan(
    `process ${subject}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'nats',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.destination.name': subject,
        'messaging.consumer.group.name': durable,
        'messaging.batch.message_count': msgs.length,
        'messaging.nats.stream': first.info.stream,
        ...(one
          ? {
              'messaging.message.id': eventId ?? '',
              'messaging.nats.stream.sequence': first.info.streamSequence,
              'messaging.nats.delivery_count': first.info.deliveryCount,
            }
          : {}),
      },
      links: one ? [] : msgs.flatMap((m) => linkTo(traceOf(m).traceparent)),
    },
    parent,
  );
  const ctx = trace.setSpan(
    withLogContext(parent, {
      consumer: durable,
      ...(one ? { subject: first.subject, event_id: eventId } : {}),
    }),
    span,
  );
  try {
    return await context.with(ctx, handle);
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
    throw error;
  } finally {
    span.end();
  }
}

/** OTel-named consumer metrics, beside the conveyor_* ones the consumer keeps. */
export function messagingMetrics(registry: Registry) {
  return {
    consumed: counter(registry, {
      name: 'messaging_client_consumed_messages_total',
      help: 'Messages delivered to a consumer (OTel messaging.client.consumed.messages), by outcome.',
      labelNames: [
        'messaging_system',
        'messaging_destination_name',
        'messaging_consumer_group_name',
        'outcome',
      ],
    }),
    duration: histogram(registry, {
      name: 'messaging_process_duration_seconds',
      help: 'Time to process one message (OTel messaging.process.duration).',
      labelNames: ['messaging_system', 'messaging_destination_name', 'messaging_consumer_group_name'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    }),
  };
}

interface Watched {
  jsm: JetStreamManager;
  stream: string;
  durable: string;
}
const watchedByRegistry = new WeakMap<Registry, Set<Watched>>();

/**
 * Consumer lag and dead letters as gauges read from JetStream on each scrape
 * (bounded: one info call per consumer and one for the dead-letter stream,
 * each with a short timeout; a failed read leaves the last value):
 * conveyor_consumer_pending_messages, conveyor_consumer_ack_pending_messages,
 * conveyor_consumer_redelivered_messages, conveyor_dead_letters_messages.
 * Returns the function that stops watching the consumer.
 */
export function watchConsumer(registry: Registry, watched: Watched): () => void {
  let set = watchedByRegistry.get(registry);
  if (!set) {
    const all = new Set<Watched>();
    set = all;
    watchedByRegistry.set(registry, all);
    // Each per-consumer gauge and what it reads from the consumer's info.
    const perConsumer = [
      {
        name: 'conveyor_consumer_pending_messages',
        help: 'Messages in the stream not yet delivered to the consumer (lag).',
        read: (info: ConsumerInfo) => info.num_pending,
      },
      {
        name: 'conveyor_consumer_ack_pending_messages',
        help: 'Messages delivered to the consumer and not yet acknowledged.',
        read: (info: ConsumerInfo) => info.num_ack_pending,
      },
      {
        name: 'conveyor_consumer_redelivered_messages',
        help: 'Messages delivered more than once and not yet acknowledged.',
        read: (info: ConsumerInfo) => info.num_redelivered,
      },
    ].map(({ name, help, read }) => ({
      metric: gauge(registry, { name, help, labelNames: ['stream', 'consumer'] as const }),
      read,
    }));
    const deadLetters = gauge(registry, {
      name: 'conveyor_dead_letters_messages',
      help: 'Messages in the dead-letter stream (depth).',
      labelNames: ['stream'],
    });
    // prom-client calls collect() on every scrape; the first gauge reads for all four.
    (perConsumer[0]!.metric as unknown as { collect: () => Promise<void> }).collect = async () => {
      const consumers = [...all];
      await Promise.all(
        consumers.map(async ({ jsm, stream, durable }) => {
          const info = await bounded(jsm.consumers.info(stream, durable));
          if (!info) return;
          for (const { metric, read } of perConsumer) metric.set({ stream, consumer: durable }, read(info));
        }),
      );
      const jsm = consumers[0]?.jsm;
      const dlq = jsm && (await bounded(jsm.streams.info(Streams.deadLetters.name)));
      if (dlq) deadLetters.set({ stream: Streams.deadLetters.name }, dlq.state.messages);
    };
  }
  set.add(watched);
  return () => set.delete(watched);
}

export async function bounded<T>(work: Promise<T>, ms = 1000): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work.catch(() => undefined),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
