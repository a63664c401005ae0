import type { Metadata, ServiceDefinition } from '@grpc/grpc-js';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import { contextFromTraceparent, tracer, withLogContext } from '../observability/telemetry.ts';
import { mapHandlers } from './map-handlers.ts';
import { observeRpc, rpcMetrics, splitPath } from './rpc-metrics.ts';

type Handler = (call: CallLike, callback?: (error: unknown, ...rest: unknown[]) => void) => unknown;
interface CallLike {
  metadata: Metadata;
  on?(event: string, listener: (...args: unknown[]) => void): unknown;
}

/**
 * Wraps every handler of a service, cross-cutting and outside the handlers:
 * a SERVER span (rpc semantic conventions) continuing the caller's
 * `traceparent` metadata, active while the handler runs so its queries and
 * calls are children; the rpc_server_* metrics; and the rpc method in the
 * log context. Unary and client-streaming calls end at their callback;
 * server-streaming calls when the stream finishes, errors or is cancelled.
 */
export function instrumentService(
  // biome-ignore lint/suspicious/noExplicitAny: grpc-js service definitions are untyped at this level.
  definition: ServiceDefinition<any>,
  implementation: Record<string, Handler>,
  registry: Registry | undefined,
): Record<string, Handler> {
  const metrics = registry && rpcMetrics(registry, 'server');
  return mapHandlers(definition, implementation, (method, original) => {
    const rpc = splitPath(method.path);
    const { service, method: rpcMethod } = rpc;
    return (call, callback) => {
      const started = performance.now();
      const header = call.metadata.get('traceparent')[0];
      const state = call.metadata.get('tracestate')[0];
      const parent = contextFromTraceparent(
        typeof header === 'string' ? header : undefined,
        typeof state === 'string' ? state : undefined,
      );
      const span = tracer().startSpan(
        `${service}/${rpcMethod}`,
        {
          kind: SpanKind.SERVER,
          attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': rpcMethod },
        },
        parent,
      );
      let ended = false;
      const end = (code: number, message?: string) => {
        if (ended) return;
        ended = true;
        span.setAttribute('rpc.grpc.status_code', code);
        // Server spans are errors only for codes that mean the server failed (rpc semconv).
        if ([2, 4, 12, 13, 14, 15].includes(code)) span.setStatus({ code: SpanStatusCode.ERROR, message });
        span.end();
        observeRpc(metrics, rpc, code, (performance.now() - started) / 1000);
      };
      const spanContext = trace.setSpan(
        withLogContext(parent, { rpc_method: `${service}/${rpcMethod}` }),
        span,
      );
      if (callback) {
        const done = (error: unknown, ...rest: unknown[]) => {
          const e = error as { code?: number; details?: string; message?: string } | null;
          end(e ? (e.code ?? 2) : 0, e?.details ?? e?.message);
          callback(error, ...rest);
        };
        return context.with(spanContext, () => original.call(implementation, call, done));
      }
      call.on?.('finish', () => end(0));
      call.on?.('error', (error) => end((error as { code?: number }).code ?? 2));
      call.on?.('cancelled', () => end(1, 'cancelled'));
      return context.with(spanContext, () => original.call(implementation, call));
    };
  });
}
