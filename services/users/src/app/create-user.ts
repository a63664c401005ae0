import { type CloudEvent, newEvent } from '@conveyor/platform/core';
import { validatePassword } from '../domain/password-policy.ts';
import { type NewUserInput, registerUser, type User } from '../domain/user.ts';
import type { PasswordHasher } from './password-hasher.ts';
import type { PersonalDataSealer } from './personal-data-sealer.ts';
import type { UserRepository } from './user-repository.ts';

export interface CreateUserDeps {
  users: UserRepository;
  hasher: PasswordHasher;
  sealer: PersonalDataSealer;
  newId: () => string;
  now: () => Date;
  /** CloudEvents `source` of this service's events. */
  source: string;
}

/**
 * Registers a user with a fresh data key and announces it as user.created v2, whose personal data
 * is sealed with that key, in one transaction.
 *
 * A taken address is answered exactly as a new one, after the same work (hashing, sealing, one
 * transaction), so sign-up does not tell who has an account: nothing is stored for it, and
 * user.signup_attempted (at most one an hour per owner) lets notifications tell the owner instead.
 */
/** Sign-up is public: its owner hears of attempts with their address at most once an hour. */
const SIGNUP_ATTEMPT_MAIL_GAP_MS = 60 * 60_000;

export function createUser(deps: CreateUserDeps) {
  return async (input: NewUserInput & { password: string }): Promise<void> => {
    const user = registerUser(input, { id: deps.newId(), now: deps.now() });
    const password = validatePassword(input.password);
    const passwordHash = await deps.hasher.hash(password);
    const dataKey = deps.sealer.newKey();
    const created = userCreated(deps, user, dataKey);
    const outcome = await deps.users.create({ user, passwordHash, dataKey, events: [created] });
    if (outcome.created) return;
    const attempted = newEvent(
      'user.signup_attempted',
      { userId: outcome.ownerId, attemptedAt: user.createdAt.toISOString() },
      { source: deps.source, subject: outcome.ownerId, time: user.createdAt },
    );
    await deps.users.announceSignupAttempt(
      outcome.ownerId,
      user.createdAt,
      SIGNUP_ATTEMPT_MAIL_GAP_MS,
      attempted,
    );
  };
}

/** user.created v2: the user's personal data sealed with their new data key. */
export function userCreated(
  deps: Pick<CreateUserDeps, 'sealer' | 'source'>,
  user: User,
  dataKey: Uint8Array,
): CloudEvent {
  return newEvent(
    'user.created',
    {
      userId: user.id,
      personalData: deps.sealer.seal(dataKey, user.id, { email: user.email, name: user.name }),
      createdAt: user.createdAt.toISOString(),
    },
    { source: deps.source, subject: user.id, time: user.createdAt },
  );
}
