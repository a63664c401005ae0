import { z } from 'zod';

/** Thrown when the environment does not describe a runnable service. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

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
  host: (fallback: string) => z.string().min(1).default(fallback),
};

/** The variables every service reads. */
export const serviceEnv = {
  LOG_LEVEL: env.logLevel(),
  GRPC_HOST: env.host('127.0.0.1'),
  OPS_HOST: env.host('127.0.0.1'),
  SHUTDOWN_GRACE_MS: env.durationMs(10_000),
  /** Unary gRPC calls handled at once; beyond it calls are refused with UNAVAILABLE (ADR 0017). */
  GRPC_MAX_IN_FLIGHT: z.coerce.number().int().positive().default(64),
};
