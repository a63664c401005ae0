import type { Logger, Registry } from '@conveyor/platform';
import {
  type RunningTokenVerifier,
  startUsersTokenVerifier,
  tokenVerifierOptions,
} from '@conveyor/platform/auth';
import type { ChannelCredentials } from '@grpc/grpc-js';
import type { OrdersConfig } from '../config.ts';

/** The token verifier for the order service's edge, tuned by its USERS_* and AUTH_* settings. */
export function startTokenVerifier(
  config: OrdersConfig,
  deps: { logger: Logger; registry: Registry; credentials: ChannelCredentials },
): Promise<RunningTokenVerifier> {
  return startUsersTokenVerifier({
    address: config.USERS_ADDR,
    ...deps,
    resilience: {
      deadlineMs: config.USERS_DEADLINE_MS,
      consecutiveFailures: config.USERS_BREAKER_FAILURES,
      halfOpenAfterMs: config.USERS_BREAKER_HALF_OPEN_MS,
      maxAttempts: config.USERS_RETRY_MAX_ATTEMPTS,
      baseDelayMs: config.USERS_RETRY_BASE_MS,
      maxDelayMs: config.USERS_RETRY_MAX_DELAY_MS,
    },
    verifier: tokenVerifierOptions(config),
  });
}
