import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  contextFromTraceparent,
  linkTo,
  logCorrelation,
  startTelemetry,
  traced,
  traceparentOf,
  withLogContext,
  withSpan,
} from './telemetry.ts';

const exporter = new InMemorySpanExporter();
startTelemetry({ serviceName: 'unit', env: {}, exporter });
const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('telemetry', () => {
  it('round-trips a W3C traceparent and ignores malformed ones', () => {
    assert.equal(traceparentOf(contextFromTraceparent(parent)), parent);
    assert.equal(trace.getSpanContext(contextFromTraceparent('00-zz-yy-01')), undefined);
    assert.equal(traceparentOf(contextFromTraceparent(undefined)), undefined);
    assert.deepEqual(linkTo('garbage'), []);
    assert.equal(linkTo(parent)[0]?.context.spanId, 'b7ad6b7169203331');
  });

  it('refuses an OTLP protocol the exporter cannot speak, naming the variable', () => {
    assert.throws(
      () => startTelemetry({ serviceName: 'x', env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' } }),
      /OTEL_EXPORTER_OTLP_PROTOCOL: grpc is not supported/,
    );
  });

  it('withSpan nests spans, sets the active context and records failures', async () => {
    exporter.reset();
    let inner: string | undefined;
    await assert.rejects(
      withSpan('outer', {}, async () => {
        inner = traceparentOf();
        await withSpan('inner', { kind: SpanKind.CLIENT }, async () => {
          throw new Error('boom');
        });
      }),
      /boom/,
    );
    const spans = exporter.getFinishedSpans();
    const outer = spans.find((s) => s.name === 'outer')!;
    const innerSpan = spans.find((s) => s.name === 'inner')!;
    assert.equal(innerSpan.parentSpanContext?.spanId, outer.spanContext().spanId);
    assert.equal(innerSpan.status.code, SpanStatusCode.ERROR);
    assert.equal(innerSpan.events[0]?.name, 'exception');
    assert.equal(inner?.split('-')[2], outer.spanContext().spanId);
  });

  it('traced() turns an adapter method into a CLIENT span without changing its result', async () => {
    exporter.reset();
    class Mailer {
      sent = 0;
      async send(to: string): Promise<string> {
        this.sent++;
        return `sent to ${to}`;
      }
    }
    const mailer = traced(new Mailer(), 'send', 'smtp send');
    assert.equal(await mailer.send('a@b.c'), 'sent to a@b.c');
    assert.equal(mailer.sent, 1);
    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.name, 'smtp send');
    assert.equal(span?.kind, SpanKind.CLIENT);
  });

  it('logCorrelation reads trace ids and the log context from the active context', () => {
    const ctx = withLogContext(contextFromTraceparent(parent), { event_id: 'e1' });
    assert.deepEqual(
      context.with(ctx, () => logCorrelation()),
      { event_id: 'e1', trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331' },
    );
    assert.deepEqual(logCorrelation(), {});
  });
});
