// Trace context without the tracing SDK: the tracer, W3C traceparent in and out, spans around work
// and the log context. Light enough for a CLI (telemetry.ts starts the SDK and re-exports this).

import { createRequire } from 'node:module';
import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  defaultTextMapGetter,
  defaultTextMapSetter,
  type Link,
  ROOT_CONTEXT,
  type Span,
  type SpanKind,
  SpanKind as SpanKindValue,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { W3CTraceContextPropagator } from '@opentelemetry/core';

export type { Attributes, Context, Link, Span } from '@opentelemetry/api';
export { SpanKind, SpanStatusCode } from '@opentelemetry/api';

/** The tracer every Conveyor instrumentation uses. */
export function tracer() {
  return trace.getTracer('conveyor');
}

// @opentelemetry/core (39 modules with the semantic conventions) loads on the first traceparent
// read or written, not with this module: a CLI command that runs outside any trace never loads it.
let propagator: W3CTraceContextPropagator | undefined;
function w3c(): W3CTraceContextPropagator {
  if (!propagator) {
    const core = createRequire(import.meta.url)(
      '@opentelemetry/core',
    ) as typeof import('@opentelemetry/core');
    propagator = new core.W3CTraceContextPropagator();
  }
  return propagator;
}

/** The context a W3C `traceparent` (and `tracestate`) describes; ROOT when absent or malformed. */
export function contextFromTraceparent(traceparent: string | undefined, tracestate?: string): Context {
  if (!traceparent) return ROOT_CONTEXT;
  const carrier: Record<string, string> = { traceparent };
  if (tracestate) carrier.tracestate = tracestate;
  return w3c().extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
}

/** Runs `fn` with the context `traceparent` names active (the current one when undefined), so its spans join that trace. */
export function inTraceOf<T>(traceparent: string | undefined, fn: () => T): T {
  return traceparent ? context.with(contextFromTraceparent(traceparent), fn) : fn();
}

/** `traceparent` of the given (default: active) context's span, or undefined when there is none. */
export function traceparentOf(ctx: Context = context.active()): string | undefined {
  const spanContext = trace.getSpanContext(ctx);
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return undefined; // what inject writes then
  const carrier: Record<string, string> = {};
  w3c().inject(ctx, carrier, defaultTextMapSetter);
  return carrier.traceparent;
}

/** A span link to the span a `traceparent` names, for "caused by, but not part of" relations. */
export function linkTo(traceparent: string | undefined): Link[] {
  const spanContext = trace.getSpanContext(contextFromTraceparent(traceparent));
  return spanContext && trace.isSpanContextValid(spanContext) ? [{ context: spanContext }] : [];
}

/** Marks a span failed with the error, the OpenTelemetry way. */
export function recordFailure(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message ?? String(error) });
}

/**
 * Runs `work` inside a new active span (a child of the active one), ending it
 * when `work` settles and recording a failure. For one-line instrumentation
 * of adapters: `return withSpan('smtp send', { kind: SpanKind.CLIENT }, () => ...)`.
 */
export function withSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; links?: Link[] },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer().startActiveSpan(name, options, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      recordFailure(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * Makes one method of an adapter a CLIENT span (e.g. an SMTP send, a webhook
 * POST), from the wiring code and without touching the adapter:
 * `traced(new SmtpMailer(...), 'send', 'smtp send')`. Returns the same object.
 */
export function traced<T extends object, K extends keyof T>(
  target: T,
  method: K,
  name: string,
  attributes: Attributes | ((...args: never[]) => Attributes) = {},
): T {
  const original = target[method] as unknown as (...args: unknown[]) => Promise<unknown>;
  if (typeof original !== 'function') throw new Error(`traced: ${String(method)} is not a method`);
  (target as Record<K, unknown>)[method] = (...args: unknown[]) =>
    withSpan(
      name,
      {
        kind: SpanKindValue.CLIENT,
        attributes: typeof attributes === 'function' ? attributes(...(args as never[])) : attributes,
      },
      () => original.apply(target, args),
    );
  return target;
}

/** What logs written inside a request or message add to every line (see the logger's mixin). */
export type LogContext = Record<string, string | number | undefined>;
const logContextKey = createContextKey('conveyor.log-context');

export function withLogContext(ctx: Context, fields: LogContext): Context {
  return ctx.setValue(logContextKey, { ...activeLogContext(ctx), ...fields });
}

export function activeLogContext(ctx: Context = context.active()): LogContext | undefined {
  return ctx.getValue(logContextKey) as LogContext | undefined;
}

/** trace_id / span_id of the active span plus the log context, for the pino mixin. */
export function logCorrelation(): Record<string, unknown> {
  const ctx = context.active();
  const spanContext = trace.getSpanContext(ctx);
  const fields: Record<string, unknown> = { ...activeLogContext(ctx) };
  if (spanContext && trace.isSpanContextValid(spanContext)) {
    fields.trace_id = spanContext.traceId;
    fields.span_id = spanContext.spanId;
  }
  return fields;
}
