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
import { authenticate } from './app/authenticate.ts';
import { changePassword } from './app/change-password.ts';
import { changeRole } from './app/change-role.ts';
import { createUser } from './app/create-user.ts';
import { eraseUser } from './app/erase-user.ts';
import { getUser } from './app/get-user.ts';
import { issueServiceToken } from './app/issue-service-token.ts';
import { requestPasswordReset, resetPassword } from './app/password-reset.ts';
import { republishEvents } from './app/republish-events.ts';
import { revealPersonalData } from './app/reveal-personal-data.ts';
import { signOut } from './app/sign-out.ts';
import { verifyToken } from './app/verify-token.ts';
import type { UsersConfig } from './config.ts';
import { USERS_EVENT_SOURCE } from './event-source.ts';
import { PASSWORD_METHODS, userGrpcService } from './ports/grpc-user-service.ts';

export interface RunningUsersService extends RunningService {
  relay: OutboxRelay;
}

const source = USERS_EVENT_SOURCE;

/** Wires the users service; main.ts and the tests both start it through here. `now` is for tests. */
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
      const sealer = new AesGcmSealer();
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
      const services = new Set(config.USERS_SERVICE_SECRETS.keys());
      const authenticateUser = authenticate({ users, hasher, attempts, tokens, dummyHash, accountKey, now });
      const app = {
        createUser: createUser({
          users,
          hasher,
          sealer,
          newId: uuidv7,
          now,
          source,
        }),
        getUser: getUser({ users }),
        authenticate: authenticateUser,
        verifyToken: verifyToken({ tokens, users, services }),
        publicKeys: () => ({ keys: tokens.publicKeys(), issuer: tokens.issuer, audience: tokens.audience }),
        issueServiceToken: issueServiceToken({ tokens, secrets: config.USERS_SERVICE_SECRETS }),
        revealPersonalData: revealPersonalData({ users, sealer }),
        eraseUser: eraseUser({ users, now, source }),
        changeRole: changeRole({ users, now, source }),
        signOut: signOut({ users }),
        changePassword: changePassword({ users, hasher, tokens, authenticate: authenticateUser }),
        requestPasswordReset: requestPasswordReset({
          users,
          sealer,
          now,
          ttlMs: config.USERS_PASSWORD_RESET_TTL_MS,
          source,
        }),
        resetPassword: resetPassword({ users, hasher, now }),
        republishEvents: republishEvents({
          head: () => eventLogHead(runtime.pool),
          first: (position) => eventLogFirst(runtime.pool, position),
          async requeue(from, to) {
            const queued = await requeueFromEventLog(runtime.pool, from, to);
            relay.signalCommitted();
            return queued;
          },
        }),
      };
      return { grpc: [userGrpcService(app, runtime.logger)], relay };
    },
  );
}
