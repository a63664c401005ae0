import { createHash } from 'node:crypto';
import { GatewayLimitsBucket } from '@conveyor/contracts';
import { counter, type Logger, type NatsConnection, type Registry } from '@conveyor/platform';
import { Kvm } from '@nats-io/kv';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { NatsKvRateLimiter } from './nats-kv-rate-limiter.ts';

/** The limits at the edge (ADR 0023): sign-ups per client address, log-ins per address and per account. */
export type LimitName = 'signup-ip' | 'login-ip' | 'login-account';

export interface EdgeLimitSettings {
  signupsPerIpPerHour: number;
  loginsPerIpPerMinute: number;
  loginsPerAccountPerMinute: number;
}

export type Verdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface EdgeLimits {
  /** Counts one attempt under `name` for `key`; refused once the window's allowance is spent. */
  take(name: LimitName, key: string): Promise<Verdict>;
  /** `shared`: every replica counts in the NATS bucket; `replica`: each counts alone (no NATS). */
  readonly scope: 'shared' | 'replica';
}

export const LIMITS_BUCKET = GatewayLimitsBucket;

/**
 * The gateway's limits, counted in NATS KV when a connection is given (shared by every replica;
 * while NATS is unreachable each replica counts in memory instead: the insurance limiter), else in
 * this process's memory.
 */
export async function startEdgeLimits(
  settings: EdgeLimitSettings,
  deps: { nc?: NatsConnection; logger: Logger; registry?: Registry },
): Promise<EdgeLimits> {
  const windows: Record<LimitName, { points: number; duration: number }> = {
    'signup-ip': { points: settings.signupsPerIpPerHour, duration: 3600 },
    'login-ip': { points: settings.loginsPerIpPerMinute, duration: 60 },
    'login-account': { points: settings.loginsPerAccountPerMinute, duration: 60 },
  };
  const kv = deps.nc
    ? await new Kvm(deps.nc).create(LIMITS_BUCKET, { history: 1, ttl: 2 * 3600 * 1000 })
    : undefined;
  const limiters = Object.fromEntries(
    Object.entries(windows).map(([name, window]) => {
      const options = { keyPrefix: name, ...window };
      const memory = new RateLimiterMemory(options);
      const limiter: RateLimiterAbstract = kv
        ? new NatsKvRateLimiter({ ...options, storeClient: kv, insuranceLimiter: memory })
        : memory;
      return [name, limiter];
    }),
  ) as Record<LimitName, RateLimiterAbstract>;
  const limited = counter(deps.registry, {
    name: 'conveyor_gateway_limited_total',
    help: 'Requests the gateway refused with 429 at an edge limit, by limit',
    labelNames: ['limit'] as const,
  });
  deps.logger.info(
    { scope: kv ? 'shared' : 'replica', ...settings },
    kv
      ? 'edge limits counted in NATS KV, shared by every replica'
      : 'edge limits counted by this replica alone (no NATS_URL)',
  );
  return {
    scope: kv ? 'shared' : 'replica',
    async take(name, key) {
      try {
        await limiters[name].consume(key);
        return { allowed: true };
      } catch (refusal) {
        if (!(refusal instanceof RateLimiterRes)) throw refusal;
        limited?.inc({ limit: name });
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(refusal.msBeforeNext / 1000)) };
      }
    },
  };
}

/** An account's key: a digest of the normalised address, so no address is stored in the bucket. */
export function accountKey(email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase()).digest('base64url');
}
