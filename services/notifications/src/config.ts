import { env, loadConfig, natsEnv, serviceEnv } from '@conveyor/platform';
import { tokenVerifierEnv } from '@conveyor/platform/auth';
import { z } from 'zod';

const delays = z
  .string()
  .regex(/^\d+(,\d+)*$/, 'expected comma-separated milliseconds, e.g. 1000,5000,30000')
  .transform((s) => s.split(',').map(Number));

/** Every variable notifications reads (names checked against the manifests: test/deploy). */
export const notificationsConfigShape = {
  ...serviceEnv,
  DATABASE_URL: env.url(['postgres', 'postgresql']),
  DATABASE_SCHEMA: env.identifier('notifications'),
  // The role the service connects as; migrate.ts grants it this schema (ADR 0026).
  DATABASE_SERVICE_ROLE: env.role(),
  ...natsEnv,
  GRPC_PORT: env.port(50053),
  OPS_PORT: env.port(9103),
  SMTP_URL: env.url(['smtp', 'smtps'], 'smtp://127.0.0.1:1025?tls=off'),
  /** SMTP connections, i.e. mails sent at once; a crash can resend at most this many (ADR 0004). */
  SMTP_POOL_SIZE: z.coerce.number().int().min(1).max(64).default(4),
  MAIL_FROM: z.string().min(3).default('Conveyor <no-reply@conveyor.local>'),
  MAIL_DOMAIN: z.string().min(1).default('conveyor.local'),
  // Events recorded together in one transaction at most (each stream's consumer).
  CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  // Deliveries of one event to the recording step (an unknown recipient, users unreachable)
  // before it is dead-lettered; sends never hold an event (they are scheduled in Postgres).
  CONSUMER_MAX_DELIVER: z.coerce.number().int().min(2).max(100).default(30),
  CONSUMER_BACKOFF_MS: delays.default([1000, 5000, 15_000, 60_000, 300_000]),
  CONSUMER_ACK_WAIT_MS: env.durationMs(30_000),
  // How often a replica reads the operators' pause flags (ADR 0033): the most a pause takes.
  CONSUMER_CONTROL_POLL_MS: env.durationMs(1000),
  // Failed sends of one notification, while its channel is healthy, before it is given up.
  DELIVERY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
  // Retry delays of a failed send, by counted failure (the last repeats), jittered ±20%.
  DELIVERY_BACKOFF_MS: delays.default([1000, 5000, 15_000, 60_000, 300_000]),
  // A delivery not sent this long after it was recorded (a target down for a day) is given up.
  DELIVERY_MAX_AGE_MS: env.durationMs(24 * 60 * 60 * 1000),
  // How long a claimed delivery is this replica's; a crashed replica's come back after it.
  DELIVERY_LEASE_MS: env.durationMs(60_000),
  // How often to look for due retries and work recorded by other replicas.
  DELIVERY_POLL_MS: env.durationMs(1000),
  // Webhook POSTs in flight at once per webhook (each webhook is its own bulkhead).
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  BREAKER_THRESHOLD: z.coerce.number().int().min(1).max(1000).default(5),
  BREAKER_HALF_OPEN_MS: env.durationMs(10_000),
  WEBHOOK_TIMEOUT_MS: env.durationMs(5000),
  WEBHOOK_ALLOW_LOOPBACK: env.flag(false),
  WEBHOOK_MAX_PER_OWNER: z.coerce.number().int().min(1).max(100).default(10),
  // Key-encryption keys for webhook secrets at rest, `kid=base64url(32 bytes)`, comma-separated,
  // the first current (docs/deploy.md, "Rotation"). Checked at start, so never echoed here.
  WEBHOOK_SECRET_KEYS: z.string().optional(),
  NODE_ENV: z.string().default('development'),
  // users opens the sealed contact details of user.created v2 for this service.
  USERS_ADDR: env.host('127.0.0.1:50051'),
  USERS_SERVICE_SECRET: z.string().min(16, 'expected at least 16 characters').optional(),
  USERS_DEADLINE_MS: env.durationMs(2000),
  ...tokenVerifierEnv,
  USERS_RETRY_DELAY_MS: env.durationMs(5000),
};

export function loadNotificationsConfig(source: Record<string, string | undefined> = process.env) {
  return loadConfig(notificationsConfigShape, source);
}

export type NotificationsConfig = ReturnType<typeof loadNotificationsConfig>;
