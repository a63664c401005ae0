import { env, loadConfig, natsEnv, serviceEnv } from '@conveyor/platform';
import { tokenVerifierEnv } from '@conveyor/platform/auth';
import { z } from 'zod';

const delays = z
  .string()
  .regex(/^\d+(,\d+)*$/, 'expected comma-separated milliseconds, e.g. 500,2000,10000')
  .transform((s) => s.split(',').map(Number));

/** Every variable orders reads (names checked against the manifests: test/deploy). */
export const ordersConfigShape = {
  ...serviceEnv,
  DATABASE_URL: env.url(['postgres', 'postgresql']),
  DATABASE_SCHEMA: env.identifier('orders'),
  // The role the service connects as; migrate.ts grants it this schema (ADR 0026).
  DATABASE_SERVICE_ROLE: env.role(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(20),
  ...natsEnv,
  GRPC_PORT: env.port(50052),
  OPS_PORT: env.port(9102),
  USERS_ADDR: env.host('127.0.0.1:50051'),
  USERS_DEADLINE_MS: env.durationMs(2000),
  USERS_BREAKER_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  USERS_BREAKER_HALF_OPEN_MS: env.durationMs(5000),
  USERS_RETRY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  USERS_RETRY_BASE_MS: z.coerce.number().int().min(0).max(60_000).default(50),
  USERS_RETRY_MAX_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(1000),
  ...tokenVerifierEnv,
  CATALOG_CACHE_TTL_MS: z.coerce.number().int().min(0).max(3_600_000).default(5_000),
  SNAPSHOT_EVERY: z.coerce.number().int().min(1).max(10_000).default(50),
  COMMAND_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(5),
  // New orders arriving while one is being stored are stored together, up to this many in one
  // statement (group commit); 1 stores each on its own.
  APPEND_GROUP_COMMIT: z.coerce.number().int().min(1).max(1000).default(64),
  // Events projected together (one batch, one upsert) at most.
  PROJECTION_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  PROJECTION_MAX_DELIVER: z.coerce.number().int().min(2).max(100).default(20),
  PROJECTION_BACKOFF_MS: delays.default([500, 2000, 10_000]),
  PROJECTION_ACK_WAIT_MS: env.durationMs(30_000),
  // How often a replica reads the operators' pause flags (ADR 0033): the most a pause takes.
  CONSUMER_CONTROL_POLL_MS: env.durationMs(1000),
  // An order not paid this long after it was placed is cancelled ("payment timeout") and the
  // customer mailed (ADR 0032); off: orders wait for payment forever.
  ORDER_PAYMENT_TIMEOUT: env.duration('30m'),
  // Durable timers: how often a replica looks for due ones (the most one fires late), and how long
  // a replica's claim holds before another may fire it (a crashed replica's timers wait this long).
  TIMERS_POLL_MS: env.durationMs(1000),
  TIMERS_LEASE_MS: env.durationMs(30_000),
};

export function loadOrdersConfig(source: Record<string, string | undefined> = process.env) {
  return loadConfig(ordersConfigShape, source);
}

export type OrdersConfig = ReturnType<typeof loadOrdersConfig>;
