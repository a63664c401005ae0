// Naming and recording one call, without prom-client: a client loads this, not rpc-metrics.ts.
import type { RpcMetrics } from './rpc-metrics.ts';

/** `/pkg.Service/Method` → its two halves. */
export function splitPath(path: string): { service: string; method: string } {
  const [, service = '', method = ''] = /^\/?([^/]+)\/([^/]+)$/.exec(path) ?? [];
  return { service, method };
}

/** Records one call; `rpc` is the method's `splitPath`, computed once by the caller. */
export function observeRpc(
  metrics: RpcMetrics | undefined,
  rpc: { service: string; method: string },
  code: number,
  seconds: number,
) {
  if (!metrics) return;
  const { service, method } = rpc;
  const labels = { rpc_service: service, rpc_method: method, rpc_grpc_status_code: String(code) };
  metrics.duration.observe(labels, seconds);
  metrics.requests.inc(labels);
}
