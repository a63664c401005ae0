import type { ChannelCredentials } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { Downstream } from '../resilience/downstream.ts';
import type { ResilienceOptions } from '../resilience/resilience-options.ts';
import { type TokenVerifier, type TokenVerifierOptions, UsersTokenVerifier } from './token-verifier.ts';
import { GrpcUsersAuthApi } from './users-auth-api.ts';

/**
 * The verifier's settings every calling service reads: how long a verdict is reused (the bound
 * within which a sign-out, role change or erasure reaches this service), how many are kept, and
 * how often the public keys are fetched.
 */
export const tokenVerifierEnv = {
  AUTH_CACHE_TTL_MS: z.coerce.number().int().min(0).max(300_000).default(30_000),
  AUTH_CACHE_MAX_ENTRIES: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
  AUTH_KEYS_REFRESH_MS: z.coerce.number().int().min(1000).max(86_400_000).default(300_000),
};

/** The verifier options of a config that spread `tokenVerifierEnv`. */
export function tokenVerifierOptions(config: {
  AUTH_CACHE_TTL_MS: number;
  AUTH_CACHE_MAX_ENTRIES: number;
  AUTH_KEYS_REFRESH_MS: number;
}): TokenVerifierOptions {
  return {
    cacheTtlMs: config.AUTH_CACHE_TTL_MS,
    cacheMaxEntries: config.AUTH_CACHE_MAX_ENTRIES,
    keysRefreshMs: config.AUTH_KEYS_REFRESH_MS,
  };
}

export interface RunningTokenVerifier extends TokenVerifier {
  /** The protected users downstream (its breaker state is also on /metrics). */
  readonly downstream: Downstream;
  stop(): void;
}

/**
 * The users service as a calling service sees it: one protected downstream
 * named `users` (deadline → breaker → retry) shared by VerifyToken and
 * GetPublicKeys, and a verifier with its cache and local-key fallback
 * (ADR 0012). Fetches the public keys before returning when users answers.
 */
export async function startUsersTokenVerifier(options: {
  address: string;
  /** TLS or plaintext to users (the service's gRPC transport); plaintext by default. */
  credentials?: ChannelCredentials;
  logger: Logger;
  registry?: Registry;
  resilience?: Partial<ResilienceOptions>;
  verifier?: Partial<TokenVerifierOptions>;
}): Promise<RunningTokenVerifier> {
  const api = new GrpcUsersAuthApi(options.address, options.credentials);
  const deps = { logger: options.logger, ...(options.registry ? { registry: options.registry } : {}) };
  const downstream = new Downstream('users', options.resilience ?? {}, deps);
  const verifier = new UsersTokenVerifier({ api, downstream, ...deps }, options.verifier ?? {});
  await verifier.start();
  return {
    downstream,
    verify: (token) => verifier.verify(token),
    stop: () => {
      verifier.stop();
      api.close();
    },
  };
}
