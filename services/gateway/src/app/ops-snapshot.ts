import { parsePrometheusText } from '@conveyor/platform/prometheus-text';
import { z } from 'zod';
import { downSummary, type MetricsSummary, summarize } from './metrics-summary.ts';

/** Reads a service's ops port. Implementations bound every request in time. */
export interface ServiceProbe {
  readonly name: string;
  readyz(): Promise<{ ready: boolean; checks: Record<string, string> }>;
  metrics(): Promise<string>;
}

/** A service's readiness as its ops port reports it (also the API's schema of it). */
export const ServiceHealth = z.object({
  name: z.string(),
  ready: z.boolean(),
  checks: z.record(z.string(), z.string()),
  error: z.string(),
});
export type ServiceHealth = z.infer<typeof ServiceHealth>;

export interface OpsSnapshot {
  at: string;
  health: ServiceHealth[];
  metrics: MetricsSummary[];
}

/** Health and metrics of every service, asked in parallel; a service that does not answer is shown down. */
export async function opsSnapshot(probes: readonly ServiceProbe[], now: () => Date): Promise<OpsSnapshot> {
  const rows = await Promise.all(
    probes.map(async (probe) => {
      const [ready, text] = await Promise.allSettled([probe.readyz(), probe.metrics()]);
      const health: ServiceHealth =
        ready.status === 'fulfilled'
          ? { name: probe.name, ready: ready.value.ready, checks: ready.value.checks, error: '' }
          : {
              name: probe.name,
              ready: false,
              checks: {},
              error: String((ready.reason as Error)?.message ?? ready.reason),
            };
      const metrics =
        text.status === 'fulfilled'
          ? summarize(probe.name, parsePrometheusText(text.value, { malformed: 'skip' }))
          : downSummary(probe.name);
      return { health, metrics };
    }),
  );
  return { at: now().toISOString(), health: rows.map((r) => r.health), metrics: rows.map((r) => r.metrics) };
}
