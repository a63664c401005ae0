import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Downstream } from '../resilience/downstream.ts';
import type { ResilienceOptions } from '../resilience/resilience-options.ts';
import { type TokenVerifier, type TokenVerifierOptions, UsersTokenVerifier } from './token-verifier.ts';
import { GrpcUsersAuthApi } from './users-auth-api.ts';

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
  logger: Logger;
  registry?: Registry;
  resilience?: Partial<ResilienceOptions>;
  verifier?: Partial<TokenVerifierOptions>;
}): Promise<RunningTokenVerifier> {
  const api = new GrpcUsersAuthApi(options.address);
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
