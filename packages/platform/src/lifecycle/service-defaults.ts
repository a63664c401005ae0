import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createLogger } from '../observability/logger.ts';
import { createMetricsRegistry } from '../observability/metrics.ts';
import { startTelemetry, type Telemetry } from '../observability/telemetry.ts';
import { type OpsServer, startOpsServer } from './ops-server.ts';
import { Readiness } from './readiness.ts';
import { createShutdown, type Shutdown } from './shutdown.ts';

export interface ServiceDefaults {
  logger: Logger;
  registry: Registry;
  readiness: Readiness;
  shutdown: Shutdown;
  ops: OpsServer;
  telemetry: Telemetry;
}

/**
 * What every service gets with one call: traces (OTEL_* variables), JSON
 * logs carrying trace ids, a metrics registry,
 * readiness, the ops port (/healthz, /readyz, /metrics) and ordered,
 * time-bounded shutdown on SIGTERM/SIGINT whose first step is going unready.
 */
export async function startServiceDefaults(options: {
  service: string;
  logLevel: string;
  opsHost: string;
  opsPort: number;
  graceMs: number;
}): Promise<ServiceDefaults> {
  const telemetry = startTelemetry({ serviceName: options.service });
  const logger = createLogger({ service: options.service, level: options.logLevel });
  const registry = createMetricsRegistry(options.service);
  const readiness = new Readiness();
  const shutdown = createShutdown({ logger, graceMs: options.graceMs });
  shutdown.add('unready', 'go unready', () => readiness.beginShutdown());
  const ops = await startOpsServer({ host: options.opsHost, port: options.opsPort, readiness, registry });
  shutdown.add('final', 'close ops server', () => ops.close());
  shutdown.add('final', 'flush traces', () => telemetry.flush());
  if (telemetry.endpoint) logger.info({ endpoint: telemetry.endpoint }, 'exporting traces');
  process.on('unhandledRejection', (error) => logger.error({ err: error }, 'unhandled rejection'));
  return { logger, registry, readiness, shutdown, ops, telemetry };
}
