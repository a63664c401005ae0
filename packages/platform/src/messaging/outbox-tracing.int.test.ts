import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from '@conveyor/stack';
import type { JetStreamManager } from '@nats-io/jetstream';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type pg from 'pg';
import { pino } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { startTelemetry, traceparentOf, withSpan } from '../observability/telemetry.ts';
import { type OutboxFixture, outboxFixture } from '../testing/outbox-fixture.ts';
import { newEvent } from './cloud-event.ts';
import { appendToOutbox, requeueInOutbox } from './outbox.ts';
import type { OutboxRelay } from './outbox-relay.ts';

const logger = pino({ level: 'silent' });
const schema = 'relaytrace';
const exporter = new InMemorySpanExporter();
startTelemetry({ serviceName: 'relay-trace-test', env: { OTEL_TRACES_SAMPLER: 'always_on' }, exporter });

describe('outbox relay tracing (real Postgres and NATS)', () => {
  let f: OutboxFixture;
  let pool: pg.Pool;
  let jsm: JetStreamManager;
  let relay: OutboxRelay;

  before(async () => {
    f = await outboxFixture({ name: 'relay_trace', schema, logger, poolMax: 2 });
    ({ pool, jsm } = f);
    relay = f.startRelay({ idlePollMs: 100 });
  });

  after(() => f?.stop());

  const publishSpans = (eventId: string) =>
    exporter
      .getFinishedSpans()
      .filter((s) => s.kind === SpanKind.PRODUCER && s.attributes['messaging.message.id'] === eventId);

  it('publishes under the writer’s span, sends its own traceparent, and a requeue links back', async () => {
    const event = newEvent(
      'user.created',
      {
        userId: uuidv7(),
        personalData: `v1.${'A'.repeat(16)}.${'B'.repeat(40)}`,
        createdAt: new Date().toISOString(),
      },
      { source: 'test' },
    );
    const command = await withSpan('command', {}, async (span) => {
      await appendToOutbox(pool, [event]);
      return { spanId: span.spanContext().spanId, traceId: span.spanContext().traceId, tp: traceparentOf() };
    });
    relay.signalCommitted();
    await waitUntil(() => publishSpans(event.id).length === 1, {
      timeoutMs: 5000,
      message: 'no publish span',
    });
    const publish = publishSpans(event.id)[0] as ReadableSpan;
    assert.equal(publish.name, 'publish user.created');
    assert.equal(publish.spanContext().traceId, command.traceId);
    assert.equal(publish.parentSpanContext?.spanId, command.spanId);
    assert.equal(publish.attributes['messaging.system'], 'nats');
    assert.equal(publish.attributes['messaging.destination.name'], 'user.created');

    const stored = await jsm.streams.getMessage('USERS', {
      seq: Number(publish.attributes['messaging.nats.stream.sequence']),
    });
    const sent = stored?.header.get('traceparent');
    assert.equal(sent?.split('-')[1], command.traceId);
    assert.equal(
      sent?.split('-')[2],
      publish.spanContext().spanId,
      'consumers see the publish span as parent',
    );

    // A republish belongs to the operation that asked for it and links to the original command.
    const republish = await withSpan('republish', {}, async (span) => {
      await requeueInOutbox(pool, [{ ...event, traceparent: command.tp }]);
      return span.spanContext();
    });
    relay.signalCommitted();
    await waitUntil(() => publishSpans(event.id).length === 2, {
      timeoutMs: 5000,
      message: 'no second publish',
    });
    const again = publishSpans(event.id)[1] as ReadableSpan;
    assert.equal(again.spanContext().traceId, republish.traceId);
    assert.equal(again.parentSpanContext?.spanId, republish.spanId);
    assert.deepEqual(
      again.links.map((l) => l.context.spanId),
      [command.spanId],
    );
    assert.equal(
      again.attributes['messaging.nats.duplicate'],
      true,
      'JetStream dropped the copy by its msg id',
    );
  });
});
