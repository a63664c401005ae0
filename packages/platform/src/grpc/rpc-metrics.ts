import type { Registry } from 'prom-client';
import { counter, histogram } from '../observability/metrics.ts';
import { useClientMetrics } from './client.ts';

export { observeRpc, splitPath } from './rpc-observe.ts';

/** Seconds; from sub-millisecond cache hits to the longest deadlines. */
const rpcBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const labelNames = ['rpc_service', 'rpc_method', 'rpc_grpc_status_code'] as const;

/**
 * OpenTelemetry's rpc.server.duration / rpc.client.duration in Prometheus
 * form, with request counters beside them (errors = code ≠ "0").
 */
export function rpcMetrics(registry: Registry, side: 'server' | 'client') {
  return {
    duration: histogram(registry, {
      name: `rpc_${side}_duration_seconds`,
      help: `gRPC ${side} call latency by service, method and status code.`,
      labelNames,
      buckets: rpcBuckets,
    }),
    requests: counter(registry, {
      name: `rpc_${side}_requests_total`,
      help: `gRPC ${side} calls by service, method and status code (0 = OK).`,
      labelNames,
    }),
  };
}

export type RpcMetrics = ReturnType<typeof rpcMetrics>;

/** Records every callUnary in `registry` as rpc_client_duration_seconds / rpc_client_requests_total. */
export function measureGrpcClients(registry: Registry): void {
  useClientMetrics(rpcMetrics(registry, 'client'));
}
