import { type Caller, requireRole } from '@conveyor/platform/core';
import { authenticate } from './authenticate.ts';
import { changePassword } from './change-password.ts';
import { changeRole } from './change-role.ts';
import { createUser } from './create-user.ts';
import { eraseUser } from './erase-user.ts';
import { getUser } from './get-user.ts';
import { issueServiceToken } from './issue-service-token.ts';
import type { PasswordHasher } from './password-hasher.ts';
import { requestPasswordReset, resetPassword } from './password-reset.ts';
import type { PersonalDataSealer } from './personal-data-sealer.ts';
import { type EventLog, republishEvents } from './republish-events.ts';
import { revealPersonalData } from './reveal-personal-data.ts';
import type { SignInAttempts } from './sign-in-attempts.ts';
import { signOut } from './sign-out.ts';
import type { TokenService } from './token-service.ts';
import type { UserRepository } from './user-repository.ts';
import { verifyToken } from './verify-token.ts';

/** Everything the users use cases reach outside themselves; production's in service.ts. */
export interface UserAdapters {
  users: UserRepository;
  hasher: PasswordHasher;
  sealer: PersonalDataSealer;
  attempts: SignInAttempts;
  tokens: TokenService;
  /** users' event log, for RepublishEvents. */
  eventLog: EventLog;
  /** A hash of a random password with the current parameters: unknown emails are checked against it. */
  dummyHash: string;
  /** The account key sign-in throttling is stored under. */
  accountKey: (email: string) => string;
  /** The services that may hold tokens, with their secrets (USERS_SERVICE_SECRETS). */
  serviceSecrets: ReadonlyMap<string, string>;
  now: () => Date;
  newId: () => string;
  settings: {
    /** CloudEvents `source` of this service's events. */
    source: string;
    passwordResetTtlMs: number;
  };
}

/**
 * The users service's application: its use cases wired to the adapters, nothing started. The
 * gRPC port calls what this returns; who may call what is the use cases' rule.
 */
export function buildApp(adapters: UserAdapters) {
  const { users, hasher, sealer, tokens, now } = adapters;
  const { source } = adapters.settings;
  const authenticateUser = authenticate({
    users,
    hasher,
    attempts: adapters.attempts,
    tokens,
    dummyHash: adapters.dummyHash,
    accountKey: adapters.accountKey,
    now,
  });
  const republish = republishEvents(adapters.eventLog, now);
  return {
    createUser: createUser({ users, hasher, sealer, newId: adapters.newId, now, source }),
    getUser: getUser({ users }),
    authenticate: authenticateUser,
    verifyToken: verifyToken({ tokens, users, services: new Set(adapters.serviceSecrets.keys()) }),
    publicKeys: () => ({ keys: tokens.publicKeys(), issuer: tokens.issuer, audience: tokens.audience }),
    issueServiceToken: issueServiceToken({ tokens, secrets: adapters.serviceSecrets }),
    revealPersonalData: revealPersonalData({ users, sealer }),
    eraseUser: eraseUser({ users, now, source }),
    changeRole: changeRole({ users, now, source }),
    signOut: signOut({ users }),
    changePassword: changePassword({ users, hasher, tokens, authenticate: authenticateUser }),
    requestPasswordReset: requestPasswordReset({
      users,
      sealer,
      now,
      ttlMs: adapters.settings.passwordResetTtlMs,
      source,
    }),
    resetPassword: resetPassword({ users, hasher, now }),
    /** Admins only. */
    async republishEvents(caller: Caller, range: { fromPosition: number; toPosition: number }) {
      requireRole(caller, ['admin']);
      return republish(range);
    },
  };
}

export type UserApp = ReturnType<typeof buildApp>;
