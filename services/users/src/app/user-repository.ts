import type { CloudEvent } from '@conveyor/platform/core';
import type { User, UserRole } from '../domain/user.ts';

export type FirstAdminOutcome =
  | { kind: 'created'; user: User }
  /** An (unerased) admin exists: the first admin is made once. */
  | { kind: 'admin-exists'; email: string }
  | { kind: 'email-taken' };

export type RoleChangeOutcome =
  | { kind: 'changed' | 'unchanged'; user: User }
  | { kind: 'not-found' }
  /** Revoking it would leave no admin. */
  | { kind: 'last-admin' };

/** A user to store, with what is stored beside them in the same transaction. */
export interface NewAccount {
  user: User;
  passwordHash: string;
  /** The user's own key, which seals their personal data (crypto-shredding). */
  dataKey: Uint8Array;
  /** Stored in the outbox with the user (invariant 1). */
  events: readonly CloudEvent[];
}

/**
 * Where users, their credentials and their data keys live. Every write
 * stores its events in the outbox in the same transaction (invariant 1).
 */
export interface UserRepository {
  /**
   * Stores user, password hash, data key and events atomically. When the email is taken it stores
   * nothing and answers the id of the user who has it.
   */
  create(account: NewAccount): Promise<{ created: true } | { created: false; ownerId: string }>;
  /**
   * Stores `event` (a sign-up with the owner's address) unless one was stored for that owner less
   * than `minGapMs` before `at`; true when it was stored.
   */
  announceSignupAttempt(ownerId: string, at: Date, minGapMs: number, event: CloudEvent): Promise<boolean>;
  /**
   * Stores the first admin like `create`, with `events`, unless an unerased admin exists or the
   * email is taken; serialised with role changes.
   */
  createFirstAdmin(account: NewAccount): Promise<FirstAdminOutcome>;
  /**
   * Gives an unerased user `role`, with `changeEvent(previousRole, now)` in the outbox; nothing
   * when the user holds it already; never takes the role of the last admin. Serialised with the
   * other role changes.
   */
  setRole(
    id: string,
    role: UserRole,
    changeEvent: (previous: UserRole, at: Date) => CloudEvent,
    now: Date,
  ): Promise<RoleChangeOutcome>;
  /**
   * Stores `tokenHash` as the user's one live reset code (replacing any other) with `event`, unless a
   * code was stored for them less than `minGapMs` before `at`; true when stored.
   */
  storePasswordReset(
    userId: string,
    reset: { tokenHash: Buffer; expiresAt: Date; at: Date; minGapMs: number },
    event: CloudEvent,
  ): Promise<boolean>;
  /**
   * Uses the reset code with `tokenHash` if it is live at `now`: marks it used, sets `passwordHash`,
   * ends every session and forgets the account's sign-in failures, in one transaction. The user's
   * id, or undefined for a code unknown, used or expired.
   */
  resetPassword(tokenHash: Buffer, passwordHash: string, now: Date): Promise<string | undefined>;
  /** Sets a user's password hash and ends every session; the new token generation. */
  setPassword(userId: string, passwordHash: string): Promise<number>;
  /** Moves the user's token generation on: every token issued before is refused. False if unknown. */
  revokeTokens(id: string): Promise<boolean>;
  /** undefined for an unknown or erased user. */
  findById(id: string): Promise<User | undefined>;
  /** By normalised email; undefined when no (unerased) user has it. */
  findCredentials(email: string): Promise<{ user: User; passwordHash: string } | undefined>;
  /** undefined once the user is erased (or never existed). */
  findDataKey(userId: string): Promise<Uint8Array | undefined>;
  /**
   * Erases in one transaction: deletes the data key, password hash, email,
   * name and sign-in throttling state, keeps a tombstone (id, created_at,
   * erased_at) and appends `eraseEvent(erasedAt)` to the outbox. A user
   * erased before keeps the first erased_at and gets no second event.
   * undefined when the id is unknown.
   */
  erase(
    id: string,
    now: Date,
    eraseEvent: (erasedAt: Date) => CloudEvent,
  ): Promise<{ erasedAt: Date; erasedNow: boolean } | undefined>;
}
