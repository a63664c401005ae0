import { type CallOptions, type Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { traceparentOf, tracer } from '../observability/trace-context.ts';
import type { RpcMetrics } from './rpc-metrics.ts';
import { observeRpc, splitPath } from './rpc-observe.ts';

/** Plaintext credentials, for loopback and tests; services take theirs from grpcTransport (GRPC_TLS_*). */
export const insecure = () => credentials.createInsecure();

/**
 * Channel options for a client of a service that restarts (a deploy, a crash): reconnect soon
 * after it returns, not after grpc-js's default backoff, which grows to 120 s.
 */
export const reconnectSoon = {
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 2000,
} as const;

type UnaryMethod<Req, Res> = ((
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown) & { path?: string };

/*
 * Process-wide, like OpenTelemetry's tracer provider: client calls are made
 * deep inside adapters that have no registry of their own. startService sets
 * it; in a process hosting several services (tests), the last one set wins.
 */
let clientMetrics: RpcMetrics | undefined;

/** Where every callUnary is recorded from now on (measureGrpcClients in rpc-metrics.ts sets it). */
export function useClientMetrics(metrics: RpcMetrics): void {
  clientMetrics = metrics;
}

/**
 * Calls a unary method with a deadline; every client call in Conveyor goes
 * through here so none can wait forever. Each call is a CLIENT span whose
 * context travels in `traceparent` metadata, so the server's span is its child.
 */
export function callUnary<Req, Res>(
  client: Client,
  method: UnaryMethod<Req, Res>,
  request: Req,
  options: { deadlineMs: number; metadata?: Metadata },
): Promise<Res> {
  const rpc = splitPath(method.path ?? '/unknown/unknown');
  const { service, method: rpcMethod } = rpc;
  const span = tracer().startSpan(`${service}/${rpcMethod}`, {
    kind: SpanKind.CLIENT,
    attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': rpcMethod },
  });
  const metadata = options.metadata?.clone() ?? new Metadata();
  const traceparent = traceparentOf(trace.setSpan(context.active(), span));
  if (traceparent) metadata.set('traceparent', traceparent);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    method.call(
      client,
      request,
      metadata,
      { deadline: Date.now() + options.deadlineMs },
      (error, response) => {
        const code = error ? (error.code ?? 2) : 0;
        span.setAttribute('rpc.grpc.status_code', code);
        if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: error.details || error.message });
        span.end();
        observeRpc(clientMetrics, rpc, code, (performance.now() - started) / 1000);
        if (error) reject(error);
        else resolve(response);
      },
    );
  });
}
