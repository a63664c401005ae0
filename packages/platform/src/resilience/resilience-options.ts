import { z } from 'zod';

/**
 * How calls to one downstream are protected. Each attempt gets `deadlineMs`;
 * `consecutiveFailures` transient failures in a row open the breaker, which
 * lets one probe through after `halfOpenAfterMs`; idempotent calls are tried
 * up to `maxAttempts` times with full-jitter exponential backoff:
 * delay(n) = random() × min(maxDelayMs, baseDelayMs × 2^(n-1)).
 */
export interface ResilienceOptions {
  deadlineMs: number;
  consecutiveFailures: number;
  halfOpenAfterMs: number;
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultResilienceOptions: ResilienceOptions = {
  deadlineMs: 2000,
  consecutiveFailures: 5,
  halfOpenAfterMs: 5000,
  maxAttempts: 3,
  baseDelayMs: 50,
  maxDelayMs: 1000,
};

const schema = z
  .object({
    deadlineMs: z.number().int().min(1).max(600_000),
    consecutiveFailures: z.number().int().min(1).max(1000),
    halfOpenAfterMs: z.number().int().min(1).max(3_600_000),
    maxAttempts: z.number().int().min(1).max(10),
    baseDelayMs: z.number().int().min(0).max(60_000),
    maxDelayMs: z.number().int().min(0).max(600_000),
  })
  .refine((o) => o.maxDelayMs >= o.baseDelayMs, {
    message: 'maxDelayMs must be at least baseDelayMs',
    path: ['maxDelayMs'],
  });

/** Fills defaults and rejects nonsense with an error naming the option. */
export function resilienceOptions(partial: Partial<ResilienceOptions> = {}): ResilienceOptions {
  const result = schema.safeParse({ ...defaultResilienceOptions, ...partial });
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid resilience options: ${problems.join('; ')}`);
  }
  return result.data;
}

/** The full-jitter delay before retry `attempt` (1 = the first retry). */
export function backoffDelay(options: ResilienceOptions, attempt: number, random: () => number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}
