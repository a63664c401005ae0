import { z } from 'zod';

import { ConfigError } from './config-error.ts';

export { ConfigError } from './config-error.ts';

/**
 * Parses the environment once, at start. Every variable is named in the
 * error, so a bad deployment fails with a message an operator can act on.
 */
export function loadConfig<Shape extends z.ZodRawShape>(
  shape: Shape,
  env: Record<string, string | undefined> = process.env,
): z.infer<z.ZodObject<Shape>> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    const value = env[name];
    const shown = value === undefined ? 'is not set' : `is ${JSON.stringify(value)}`;
    return `${name} ${shown}: ${issue.message}`;
  });
  throw new ConfigError(problems);
}

/** Variable schemas shared by services. */
export const env = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  url: (protocols: readonly string[], fallback?: string) => {
    const base = z.string().refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol.replace(/:$/, ''));
        } catch {
          return false;
        }
      },
      { message: `expected a URL starting with ${protocols.map((p) => `${p}://`).join(' or ')}` },
    );
    return fallback === undefined ? base : base.default(fallback);
  },
  /** One URL or a comma-separated list (a cluster's seed servers), each with one of `protocols`. */
  urlList: (protocols: readonly string[], fallback: string) =>
    z
      .string()
      .refine(
        (value) =>
          value.split(',').every((part) => {
            try {
              return protocols.includes(new URL(part.trim()).protocol.replace(/:$/, ''));
            } catch {
              return false;
            }
          }),
        {
          message: `expected URLs starting with ${protocols.map((p) => `${p}://`).join(' or ')}, comma-separated`,
        },
      )
      .default(fallback),
  logLevel: () => z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  identifier: (fallback: string) =>
    z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lower-case SQL identifier')
      .default(fallback),
  durationMs: (fallback: number) => z.coerce.number().int().positive().default(fallback),
  /** A duration with its unit (`500ms`, `90s`, `30m`, `2h`) in milliseconds; `off` (or 0) is 0. */
  duration: (fallback: string) =>
    z
      .string()
      .trim()
      .regex(/^(off|0|\d{1,9}(ms|s|m|h))$/, 'expected a duration such as 500ms, 90s, 30m or 2h, or off')
      .default(fallback)
      .transform((s) => {
        const match = /^(\d+)(ms|s|m|h)$/.exec(s);
        if (!match) return 0;
        const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
        return Number(match[1]) * unit;
      }),
  host: (fallback: string) => z.string().min(1).default(fallback),
  /** `true`/`1` or `false`/`0` (nothing else: a typo must not flip a setting). */
  flag: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0'], { message: 'expected true or false' })
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1'),
  /** A file path (certificates and keys); unset when the feature is off. */
  file: () => z.string().min(1).optional(),
  /** The database role a service connects as (ADR 0026); its migrations grant it its schema. */
  role: () =>
    z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lower-case SQL role name')
      .optional(),
  /** A NATS user nkey seed (`SU…`), from a Secret; unset means no authentication. */
  nkeySeed: () =>
    z
      .string()
      .regex(/^SU[A-Z2-7]{56}$/, 'expected a NATS user nkey seed (SU followed by 56 base32 characters)')
      .optional(),
};

/** TLS to NATS: the CA that signed the servers' certificates, and optionally a client certificate. */
export function natsTlsEnv() {
  return { NATS_TLS_CA_FILE: env.file(), NATS_TLS_CERT_FILE: env.file(), NATS_TLS_KEY_FILE: env.file() };
}

/**
 * NATS for a service with streams (ADR 0025): its own identity, and the admin identity that
 * creates the streams (given to migrations and start-up; without it a service with an identity
 * only checks that the streams exist).
 */
export const natsEnv = {
  NATS_URL: env.urlList(['nats', 'tls'], 'nats://127.0.0.1:4222'),
  NATS_STREAM_REPLICAS: env.port(1).refine((n) => n >= 1 && n <= 5, 'expected 1 to 5 replicas'),
  NATS_NKEY_SEED: env.nkeySeed(),
  NATS_ADMIN_NKEY_SEED: env.nkeySeed(),
  /**
   * false: streams and durable consumers are infrastructure (e.g. NACK resources); the service
   * creates and changes none, checks that each exists with compatible settings and refuses to
   * start naming every difference (issue 27).
   */
  NATS_MANAGE_TOPOLOGY: env.flag(true),
  ...natsTlsEnv(),
};

/** The variables every service reads. */
export const serviceEnv = {
  LOG_LEVEL: env.logLevel(),
  GRPC_HOST: env.host('127.0.0.1'),
  OPS_HOST: env.host('127.0.0.1'),
  SHUTDOWN_GRACE_MS: env.durationMs(10_000),
  /** Unary gRPC calls handled at once; beyond it calls are refused with UNAVAILABLE (ADR 0017). */
  GRPC_MAX_IN_FLIGHT: z.coerce.number().int().positive().default(64),
  /**
   * TLS for gRPC (docs/security.md), from files (Kubernetes mounts cert-manager's Secrets): the
   * server's certificate chain and key, and the CA trusted when calling another service. Unset:
   * plaintext, as on loopback in development and tests.
   */
  GRPC_TLS_CERT_FILE: env.file(),
  GRPC_TLS_KEY_FILE: env.file(),
  GRPC_TLS_CA_FILE: env.file(),
};
