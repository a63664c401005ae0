import type { Sample } from '@conveyor/platform/prometheus-text';
import { z } from 'zod';

/** What the operations dashboard shows of one service (also the API's schema of it). */
export const MetricsSummary = z.object({
  service: z.string(),
  up: z.boolean(),
  eventsPublished: z.number(),
  eventsConsumed: z.number(),
  grpcRequests: z.number(),
  grpcErrors: z.number(),
  outboxBacklog: z.number(),
  consumerLag: z.record(z.string(), z.number()),
  breakers: z.record(z.string(), z.enum(['closed', 'open', 'half-open'])),
  deadLettered: z.number(),
});
export type MetricsSummary = z.infer<typeof MetricsSummary>;

/** The platform's server-side call counter (rpc-metrics.ts), by numeric status code. */
const RPC_REQUESTS = 'rpc_server_requests_total';
/** Codes that mean the server failed, as the ConveyorRpcErrorRate alert counts them. */
const SERVER_ERROR_CODES = new Set(['2', '4', '12', '13', '14', '15']);
const BREAKER_STATES = ['closed', 'half-open', 'open'] as const;

/**
 * What the operations dashboard shows of one service, from its /metrics.
 * Metric names are the platform's: gRPC calls from `rpc_server_requests_total`
 * (errors are server-side codes, as the error-rate alert counts them),
 * consumer lag from `*consumer_lag*` / `*consumer_pending*` series.
 */
export function summarize(service: string, samples: readonly Sample[]): MetricsSummary {
  const sum = (pred: (s: Sample) => boolean) => samples.filter(pred).reduce((t, s) => t + s.value, 0);
  const consumerLag: Record<string, number> = {};
  const breakers: MetricsSummary['breakers'] = {};
  for (const s of samples) {
    if (/consumer_(lag|pending)/.test(s.name) && !s.name.endsWith('_created')) {
      const key = s.labels.consumer ?? s.labels.durable ?? s.name;
      consumerLag[key] = (consumerLag[key] ?? 0) + s.value;
    }
    if (s.name === 'conveyor_circuit_breaker_state') {
      // Every breaker, {downstream}: 0 closed, 1 half-open, 2 open.
      breakers[`→ ${s.labels.downstream ?? 'default'}`] = BREAKER_STATES[s.value] ?? 'open';
    }
  }
  const grpc = (s: Sample) => s.name === RPC_REQUESTS;
  return {
    service,
    up: true,
    eventsPublished: sum((s) => s.name === 'conveyor_outbox_published_total'),
    eventsConsumed: sum((s) => s.name === 'conveyor_events_consumed_total' && s.labels.outcome === 'ack'),
    grpcRequests: sum(grpc),
    grpcErrors: sum((s) => grpc(s) && SERVER_ERROR_CODES.has(s.labels.rpc_grpc_status_code ?? '')),
    outboxBacklog: sum((s) => s.name === 'conveyor_outbox_backlog'),
    consumerLag,
    breakers,
    deadLettered: sum(
      (s) => s.name === 'conveyor_events_consumed_total' && s.labels.outcome === 'dead_letter',
    ),
  };
}

export function downSummary(service: string): MetricsSummary {
  return { ...summarize(service, []), up: false };
}
