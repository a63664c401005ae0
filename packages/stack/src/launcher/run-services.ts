import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { type ServiceProcess, spawnService } from '../process-group.ts';
import { serviceRuntimeEnv } from '../service-runtime.ts';
import type { LauncherConfig, PlannedService } from './launcher-config.ts';
import { runMigrations } from './migrations.ts';
import { isPortFree } from './ports.ts';
import type { Progress } from './progress.ts';
import { envPrefix, serviceSource } from './service-table.ts';

export interface StackInfra {
  databaseUrl: string;
  natsUrl: string;
  smtpPort: number;
}

export interface RunningService {
  planned: PlannedService;
  process: ServiceProcess;
  grpc: string;
  opsUrl: string;
}

/** The environment a service (and its migrations) runs with. */
export function serviceEnv(
  planned: PlannedService,
  infra: StackInfra,
  logLevel: string,
  all: readonly PlannedService[] = [],
): Record<string, string | undefined> {
  const downstream = Object.fromEntries(
    (planned.entry.calls ?? []).flatMap((name) => {
      const target = all.find((p) => p.entry.name === name);
      if (!target) return [];
      const addr: [string, string] = [`${envPrefix(name)}_ADDR`, `127.0.0.1:${target.grpcPort}`];
      const ops: [string, string] = [`${envPrefix(name)}_OPS_URL`, `http://127.0.0.1:${target.opsPort}`];
      return planned.entry.http ? [addr, ops] : [addr];
    }),
  );
  const httpPort = planned.entry.http
    ? { [`${envPrefix(planned.entry.name)}_PORT`]: String(planned.grpcPort) }
    : {};
  return {
    ...downstream,
    ...httpPort,
    DATABASE_URL: infra.databaseUrl,
    // Each service keeps its own default schema, whatever the launcher's shell says.
    DATABASE_SCHEMA: undefined,
    NATS_URL: infra.natsUrl,
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: String(planned.grpcPort),
    OPS_HOST: '127.0.0.1',
    OPS_PORT: String(planned.opsPort),
    LOG_LEVEL: logLevel,
    SMTP_URL: planned.entry.smtp ? `smtp://127.0.0.1:${infra.smtpPort}?tls=off` : undefined,
    // Local development: webhooks may point at a receiver on this machine.
    WEBHOOK_ALLOW_LOOPBACK: planned.entry.smtp ? 'true' : undefined,
    // Local development: signing up with this address makes an admin (ship, deliver, dlq, webhooks).
    USERS_ADMIN_EMAILS: planned.entry.name === 'users' ? 'admin@conveyor.local' : undefined,
    ...serviceSecrets(planned),
  };
}

/** One random secret per launcher run: users accepts it from notifications (IssueServiceToken). */
const localServiceSecret = randomBytes(24).toString('base64url');

function serviceSecrets(planned: PlannedService): Record<string, string> {
  if (planned.entry.name === 'users') return { USERS_SERVICE_SECRETS: `notifications=${localServiceSecret}` };
  if (planned.entry.name === 'notifications') return { USERS_SERVICE_SECRET: localServiceSecret };
  return {};
}

/** Fails naming the variable to change when a service's port is already taken. */
export async function checkServicePorts(services: readonly PlannedService[]): Promise<void> {
  const problems: string[] = [];
  for (const { entry, grpcPort, opsPort } of services) {
    const prefix = envPrefix(entry.name);
    if (!(await isPortFree(grpcPort)))
      problems.push(
        entry.http
          ? `${entry.name} HTTP port ${grpcPort} (${prefix}_PORT)`
          : `${entry.name} gRPC port ${grpcPort} (${prefix}_GRPC_PORT)`,
      );
    if (!(await isPortFree(opsPort))) problems.push(`${entry.name} ops port ${opsPort} (${prefix}_OPS_PORT)`);
  }
  if (problems.length > 0) {
    throw new Error(
      `these ports are already in use on 127.0.0.1: ${problems.join(', ')}; ` +
        'stop what holds them or choose other ports with the variables named',
    );
  }
}

export async function migrateAll(
  config: LauncherConfig,
  infra: StackInfra,
  root: string,
  progress: Progress,
  signal: AbortSignal,
): Promise<void> {
  for (const planned of config.services) {
    if (!existsSync(serviceSource(planned.entry.name, 'migrate.ts', root))) continue; // owns no data
    const env = serviceEnv(planned, infra, config.logLevel, config.services);
    const { applied } = await runMigrations(planned.entry.name, env, root, signal);
    progress.step('migrations', `${planned.entry.name} (${applied ?? '?'} applied)`);
  }
}

export function spawnAll(config: LauncherConfig, infra: StackInfra, root: string): RunningService[] {
  const width = Math.max(14, ...config.services.map((s) => s.entry.name.length + 1));
  return config.services.map((planned) => ({
    planned,
    grpc: `127.0.0.1:${planned.grpcPort}`,
    opsUrl: `http://127.0.0.1:${planned.opsPort}`,
    process: spawnService({
      name: planned.entry.name,
      command: process.execPath,
      args: [serviceSource(planned.entry.name, 'main.ts', root)],
      env: { ...serviceRuntimeEnv(), ...serviceEnv(planned, infra, config.logLevel, config.services) },
      cwd: root,
      prefixWidth: width,
    }),
  }));
}

/** Stops every service at once (SIGTERM, SIGKILL after `graceMs`); one line per service. */
export async function stopAll(services: readonly RunningService[], graceMs: number): Promise<string> {
  const outcomes = await Promise.all(
    services.map(async (service) => {
      await service.process.stop(graceMs);
      const code = await service.process.exited;
      return `${service.planned.entry.name} (${code === null ? 'killed' : `exit ${code}`})`;
    }),
  );
  return `services stopped: ${outcomes.join(', ')}`;
}
