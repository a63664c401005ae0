import { protoFiles, protoRoot } from '@conveyor/contracts';
import {
  eventLogFirst,
  eventLogHead,
  type OutboxRelay,
  type RunningService,
  requeueFromEventLog,
  startService,
} from '@conveyor/platform';
import { v7 as uuidv7 } from 'uuid';
import { accountKey } from './adapters/account-key.ts';
import { AesGcmSealer } from './adapters/aes-gcm-sealer.ts';
import { Argon2PasswordHasher } from './adapters/argon2-password-hasher.ts';
import { JoseTokenService } from './adapters/jose-token-service.ts';
import { PostgresSignInAttempts } from './adapters/postgres-sign-in-attempts.ts';
import { PostgresUserRepository } from './adapters/postgres-user-repository.ts';
import { loadPreviousKey, loadSigningKey } from './adapters/signing-key.ts';
import { buildApp } from './app/build-app.ts';
import type { UsersConfig } from './config.ts';
import { USERS_EVENT_SOURCE } from './event-source.ts';
import { PASSWORD_METHODS, userGrpcService } from './ports/grpc-user-service.ts';

export interface RunningUsersService extends RunningService {
  relay: OutboxRelay;
}

/**
 * Starts the users service on real adapters (Postgres, Argon2, JOSE) with its relay and port; main.ts
 * and the tests start it through here. `now` is for tests.
 */
export function startUsersService(
  config: UsersConfig,
  options: { now?: () => Date } = {},
): Promise<RunningUsersService> {
  const now = options.now ?? (() => new Date());
  // Password hashing has its own allowance (issue 21): VerifyToken, GetPublicKeys and service calls
  // keep GRPC_MAX_IN_FLIGHT to themselves however many sign-ins wait for Argon2.
  const admission = [
    { name: 'password', limit: config.USERS_PASSWORD_MAX_IN_FLIGHT, methods: PASSWORD_METHODS },
  ];
  return startService(
    { name: 'users', config, protoRoot, protoFiles: protoFiles.users, admission },
    async (runtime) => {
      const signingKey = await loadSigningKey({
        pem: config.USERS_JWT_PRIVATE_KEY,
        keyId: config.USERS_JWT_KEY_ID,
        production: config.NODE_ENV === 'production',
        pool: runtime.pool,
        logger: runtime.logger,
      });
      const tokens = await JoseTokenService.create({
        ...signingKey,
        previous: loadPreviousKey(config.USERS_JWT_PREVIOUS_PUBLIC_KEY, config.USERS_JWT_PREVIOUS_KEY_ID),
        ttlSeconds: config.USERS_TOKEN_TTL,
        now,
      });
      const hasher = new Argon2PasswordHasher(
        {
          memoryKiB: config.USERS_ARGON2_MEMORY_KIB,
          passes: config.USERS_ARGON2_PASSES,
          parallelism: config.USERS_ARGON2_PARALLELISM,
        },
        { maxConcurrent: config.USERS_HASH_CONCURRENCY, maxQueued: config.USERS_PASSWORD_MAX_IN_FLIGHT },
      );
      const dummyHash = await hasher.hash(`dummy-${uuidv7()}`);
      const relay = runtime.startOutboxRelay();
      const users = new PostgresUserRepository(runtime.pool, () => relay.signalCommitted());
      const attempts = new PostgresSignInAttempts(runtime.pool, {
        maxFailures: config.USERS_SIGN_IN_MAX_FAILURES,
        windowMs: config.USERS_SIGN_IN_WINDOW_MS,
        baseLockMs: config.USERS_SIGN_IN_LOCK_MS,
        maxLockMs: Math.max(config.USERS_SIGN_IN_WINDOW_MS, config.USERS_SIGN_IN_LOCK_MS),
      });
      // Forget quiet, unlocked sign-in failures once a minute (each replica; skip locked keeps them apart).
      const pruning = setInterval(() => {
        attempts.prune(now()).then(
          (pruned) => pruned > 0 && runtime.logger.debug({ pruned }, 'pruned sign-in failures'),
          (error: unknown) =>
            runtime.logger.warn({ err: error }, 'pruning sign-in failures failed; retrying in a minute'),
        );
      }, 60_000);
      pruning.unref();
      runtime.shutdown.add('work', 'stop pruning sign-in failures', () => clearInterval(pruning));
      const app = buildApp({
        users,
        hasher,
        sealer: new AesGcmSealer(),
        attempts,
        tokens,
        eventLog: {
          head: () => eventLogHead(runtime.pool),
          first: (position) => eventLogFirst(runtime.pool, position),
          async requeue(from, to) {
            const queued = await requeueFromEventLog(runtime.pool, from, to);
            relay.signalCommitted();
            return queued;
          },
        },
        dummyHash,
        accountKey,
        serviceSecrets: config.USERS_SERVICE_SECRETS,
        now,
        newId: uuidv7,
        settings: { source: USERS_EVENT_SOURCE, passwordResetTtlMs: config.USERS_PASSWORD_RESET_TTL_MS },
      });
      return { grpc: [userGrpcService(app, runtime.logger)], relay };
    },
  );
}
