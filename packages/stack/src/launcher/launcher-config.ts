import { DEFAULT_NATS_URL } from '../nats-infra.ts';
import { DEFAULT_POSTGRES_URL } from '../postgres-infra.ts';
import { portFromEnv } from './ports.ts';
import { envPrefix, presentServices, type ServiceEntry } from './service-table.ts';
import { conveyorHome } from './stack-file.ts';

export interface PlannedService {
  entry: ServiceEntry;
  grpcPort: number;
  opsPort: number;
}

/** Everything `conveyor up` reads from its environment, validated before anything starts. */
export interface LauncherConfig {
  home: string;
  /** Server to use when it answers (any database on it; `database` is created there). */
  postgresUrl: string;
  database: string;
  embeddedPostgresPort: number;
  natsUrl: string;
  natsPort: number;
  smtpPort: number;
  smtpWebPort: number;
  webhookSinkPort: number;
  logLevel: string;
  /** How long a service may take to stop before SIGKILL (its own grace plus a margin). */
  stopGraceMs: number;
  readyTimeoutMs: number;
  services: PlannedService[];
}

/** `<NAME>_GRPC_PORT`; an HTTP service's `<NAME>_PORT` (its `_GRPC_PORT` still honoured, as tests set it for every entry). */
function servicePort(env: NodeJS.ProcessEnv, entry: ServiceEntry): number {
  const prefix = envPrefix(entry.name);
  const grpc = portFromEnv(env, `${prefix}_GRPC_PORT`, entry.grpcPort);
  return entry.http ? portFromEnv(env, `${prefix}_PORT`, grpc) : grpc;
}

const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function launcherConfig(env: NodeJS.ProcessEnv = process.env): LauncherConfig {
  const database = env.CONVEYOR_DATABASE || 'conveyor';
  if (!DATABASE_NAME.test(database)) {
    throw new Error(`CONVEYOR_DATABASE is ${JSON.stringify(database)}: expected a plain database name`);
  }
  const serviceGrace = Number(env.SHUTDOWN_GRACE_MS) > 0 ? Number(env.SHUTDOWN_GRACE_MS) : 10_000;
  return {
    home: conveyorHome(env),
    postgresUrl: env.DATABASE_URL || DEFAULT_POSTGRES_URL,
    database,
    embeddedPostgresPort: 54329,
    natsUrl: env.NATS_URL || DEFAULT_NATS_URL,
    natsPort: 4222,
    smtpPort: portFromEnv(env, 'SMTP_PORT', 1025),
    smtpWebPort: portFromEnv(env, 'SMTP_WEB_PORT', 8025),
    webhookSinkPort: portFromEnv(env, 'WEBHOOK_SINK_PORT', 9999),
    logLevel: env.LOG_LEVEL || 'info',
    stopGraceMs: serviceGrace + 5000,
    readyTimeoutMs: 60_000,
    services: presentServices().map((entry) => ({
      entry,
      grpcPort: servicePort(env, entry),
      opsPort: portFromEnv(env, `${envPrefix(entry.name)}_OPS_PORT`, entry.opsPort),
    })),
  };
}
