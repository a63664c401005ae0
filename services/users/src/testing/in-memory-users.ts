import { createHash, generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Caller, CloudEvent } from '@conveyor/platform/core';
import { AppError } from '@conveyor/platform/errors';
import { type TestClock, testClock } from '@conveyor/stack/testing/clock';
import { v7 as uuidv7 } from 'uuid';
import { accountKey } from '../adapters/account-key.ts';
import { AesGcmSealer } from '../adapters/aes-gcm-sealer.ts';
import { JoseTokenService } from '../adapters/jose-token-service.ts';
import { bootstrapAdmin } from '../app/bootstrap-admin.ts';
import { buildApp, type UserAdapters, type UserApp } from '../app/build-app.ts';
import type { PasswordHasher } from '../app/password-hasher.ts';
import type { EventLog } from '../app/republish-events.ts';
import type { SignInAttempt, SignInAttempts } from '../app/sign-in-attempts.ts';
import type { NewAccount, UserRepository } from '../app/user-repository.ts';
import { checkThrottle, recordFailure, type ThrottleState } from '../domain/sign-in-throttle.ts';
import type { User } from '../domain/user.ts';
import { USERS_EVENT_SOURCE } from '../event-source.ts';

/**
 * A salted SHA-256 in a PHC-like string: fast for tests, real in its contract (a wrong password
 * does not verify, a malformed stored hash throws). Never for production: argon2id is.
 */
export class FastPasswordHasher implements PasswordHasher {
  async hash(password: string): Promise<string> {
    const salt = randomBytes(16).toString('base64url');
    return `$test-sha256$${salt}$${FastPasswordHasher.#digest(salt, password)}`;
  }

  async verify(storedHash: string, password: string): Promise<boolean> {
    const [, scheme, salt, digest] = storedHash.split('$');
    if (scheme !== 'test-sha256' || !salt || !digest) throw new Error('malformed stored hash');
    const expected = Buffer.from(digest, 'base64url');
    const actual = Buffer.from(FastPasswordHasher.#digest(salt, password), 'base64url');
    return timingSafeEqual(expected, actual);
  }

  static #digest(salt: string, password: string): string {
    return createHash('sha256').update(`${salt}:${password}`, 'utf8').digest('base64url');
  }
}

/** Failed sign-ins per account, with the domain's throttle, as the Postgres table keeps them. */
export class InMemorySignInAttempts implements SignInAttempts {
  readonly states = new Map<string, ThrottleState>();

  async begin(account: string, now: Date): Promise<SignInAttempt> {
    const before = this.states.get(account);
    const decision = checkThrottle(before, now);
    if (!decision.allowed) return decision;
    const counted = recordFailure(before, now);
    this.states.set(account, counted);
    return { allowed: true, before, counted };
  }

  async succeeded(account: string): Promise<void> {
    this.states.delete(account);
  }

  async refund(account: string, attempt: Extract<SignInAttempt, { allowed: true }>): Promise<void> {
    if (this.states.get(account) !== attempt.counted) return;
    if (attempt.before) this.states.set(account, attempt.before);
    else this.states.delete(account);
  }
}

interface Row {
  user: User;
  passwordHash: string | undefined;
  erasedAt: Date | undefined;
  signupAnnouncedAt: Date | undefined;
}

interface Reset {
  tokenHash: Buffer;
  expiresAt: Date;
  requestedAt: Date;
  used: boolean;
}

/**
 * Users, data keys, reset codes and the outbox in maps, each write whole or not at all as the
 * Postgres repository's transactions are. Erasure keeps a tombstone and forgets the account's
 * sign-in failures in `attempts`, as the Postgres one deletes its rows.
 */
export class InMemoryUserRepository implements UserRepository {
  readonly rows = new Map<string, Row>();
  readonly dataKeys = new Map<string, Uint8Array>();
  readonly resets = new Map<string, Reset>();
  /** Every event stored, in order, with when: the outbox and users' event log. */
  readonly outbox: { event: CloudEvent; recordedAt: Date }[] = [];
  readonly #attempts: InMemorySignInAttempts;
  readonly #now: () => Date;

  constructor(attempts: InMemorySignInAttempts, now: () => Date) {
    this.#attempts = attempts;
    this.#now = now;
  }

  /** The types of the events stored, in order. */
  eventTypes(): string[] {
    return this.outbox.map((e) => e.event.type);
  }

  #append(events: readonly CloudEvent[]): void {
    for (const event of events) this.outbox.push({ event, recordedAt: this.#now() });
  }

  #live(id: string): Row | undefined {
    const row = this.rows.get(id);
    return row && !row.erasedAt ? row : undefined;
  }

  #byEmail(email: string): Row | undefined {
    return [...this.rows.values()].find((r) => !r.erasedAt && r.user.email === email);
  }

  #insert({ user, passwordHash, dataKey, events }: NewAccount): void {
    this.rows.set(user.id, { user, passwordHash, erasedAt: undefined, signupAnnouncedAt: undefined });
    this.dataKeys.set(user.id, dataKey);
    this.#append(events);
  }

  async create(account: NewAccount) {
    const owner = this.#byEmail(account.user.email);
    if (owner) return { created: false as const, ownerId: owner.user.id };
    this.#insert(account);
    return { created: true as const };
  }

  async announceSignupAttempt(ownerId: string, at: Date, minGapMs: number, event: CloudEvent) {
    const row = this.#live(ownerId);
    const last = row?.signupAnnouncedAt;
    if (!row || (last && last.getTime() > at.getTime() - minGapMs)) return false;
    row.signupAnnouncedAt = at;
    this.#append([event]);
    return true;
  }

  // The two writes whose outcome is a union take their signature from the interface.
  readonly createFirstAdmin: UserRepository['createFirstAdmin'] = async (account) => {
    const admin = [...this.rows.values()].find((r) => !r.erasedAt && r.user.role === 'admin');
    if (admin) return { kind: 'admin-exists', email: admin.user.email };
    if (this.#byEmail(account.user.email)) return { kind: 'email-taken' };
    const created = { ...account.user, role: 'admin' as const };
    this.#insert({ ...account, user: created });
    return { kind: 'created', user: created };
  };

  readonly setRole: UserRepository['setRole'] = async (id, role, changeEvent, now) => {
    const row = this.#live(id);
    if (!row) return { kind: 'not-found' };
    if (row.user.role === role) return { kind: 'unchanged', user: row.user };
    const otherAdmin = [...this.rows.values()].some(
      (r) => !r.erasedAt && r.user.role === 'admin' && r.user.id !== id,
    );
    if (row.user.role === 'admin' && !otherAdmin) return { kind: 'last-admin' };
    const previous = row.user.role;
    row.user = { ...row.user, role, tokenGeneration: row.user.tokenGeneration + 1 };
    this.#append([changeEvent(previous, now)]);
    return { kind: 'changed', user: row.user };
  };

  async storePasswordReset(
    userId: string,
    reset: { tokenHash: Buffer; expiresAt: Date; at: Date; minGapMs: number },
    event: CloudEvent,
  ) {
    const earlier = this.resets.get(userId);
    if (!this.#live(userId)) return false;
    if (earlier && earlier.requestedAt.getTime() > reset.at.getTime() - reset.minGapMs) return false;
    this.resets.set(userId, {
      tokenHash: reset.tokenHash,
      expiresAt: reset.expiresAt,
      requestedAt: reset.at,
      used: false,
    });
    this.#append([event]);
    return true;
  }

  async resetPassword(tokenHash: Buffer, passwordHash: string, now: Date) {
    const entry = [...this.resets].find(
      ([, r]) => !r.used && r.expiresAt > now && r.tokenHash.equals(tokenHash),
    );
    if (!entry) return undefined;
    const [userId, reset] = entry;
    reset.used = true;
    const row = this.#live(userId);
    if (!row) return undefined;
    this.#setPassword(row, passwordHash);
    this.#attempts.states.delete(accountKey(row.user.email));
    return userId;
  }

  #setPassword(row: Row, passwordHash: string): number {
    row.passwordHash = passwordHash;
    row.user = { ...row.user, tokenGeneration: row.user.tokenGeneration + 1 };
    return row.user.tokenGeneration;
  }

  async setPassword(userId: string, passwordHash: string) {
    const row = this.#live(userId);
    if (!row) throw new AppError('NOT_FOUND', `user ${userId} was erased`);
    return this.#setPassword(row, passwordHash);
  }

  async revokeTokens(id: string) {
    const row = this.#live(id);
    if (!row) return false;
    row.user = { ...row.user, tokenGeneration: row.user.tokenGeneration + 1 };
    return true;
  }

  async findById(id: string) {
    return this.#live(id)?.user;
  }

  async findCredentials(email: string) {
    const row = this.#byEmail(email);
    return row?.passwordHash ? { user: row.user, passwordHash: row.passwordHash } : undefined;
  }

  async findDataKey(userId: string) {
    return this.dataKeys.get(userId);
  }

  async erase(id: string, now: Date, eraseEvent: (erasedAt: Date) => CloudEvent) {
    const row = this.rows.get(id);
    if (!row) return undefined;
    if (row.erasedAt) return { erasedAt: row.erasedAt, erasedNow: false };
    this.dataKeys.delete(id);
    this.resets.delete(id);
    this.#attempts.states.delete(accountKey(row.user.email));
    row.user = { ...row.user, email: '', name: '' };
    row.passwordHash = undefined;
    row.erasedAt = now;
    this.#append([eraseEvent(now)]);
    return { erasedAt: now, erasedNow: true };
  }
}

/** users' event log over the in-memory outbox (positions from 1); requeued ranges are recorded. */
export class InMemoryEventLog implements EventLog {
  readonly requeued: [number, number][] = [];
  readonly #users: InMemoryUserRepository;

  constructor(users: InMemoryUserRepository) {
    this.#users = users;
  }

  async head() {
    return this.#users.outbox.length;
  }

  async first(position: number) {
    const entry = this.#users.outbox[position - 1];
    return entry && { position, recordedAt: entry.recordedAt };
  }

  async requeue(from: number, to: number) {
    this.requeued.push([from, to]);
    return Math.max(0, Math.min(to, this.#users.outbox.length) - from + 1);
  }
}

export interface InMemoryUsers {
  app: UserApp;
  users: InMemoryUserRepository;
  attempts: InMemorySignInAttempts;
  eventLog: InMemoryEventLog;
  clock: TestClock;
  /** `conveyor users bootstrap-admin`'s use case on the same adapters. */
  bootstrapAdmin: ReturnType<typeof bootstrapAdmin>;
  /** Signs up and signs in: the user, their token and the Caller VerifyToken makes of it. */
  signUp(email?: string, password?: string): Promise<{ user: User; token: string; caller: Caller }>;
  /** The Caller a service token for `service` verifies to. */
  service(name: string): Promise<Caller>;
}

export const TEST_PASSWORD = 'correct horse battery';

/**
 * The users service's application on in-memory adapters (the component tests' wiring; service.ts
 * is production's): the real AES-GCM sealer and EdDSA token service (a key made here), a fast
 * hasher, a hand-moved clock. Services `notifications` and `orders` are configured.
 */
export async function inMemoryUsers(
  settings: Partial<UserAdapters['settings']> = {},
): Promise<InMemoryUsers> {
  const clock = testClock();
  const attempts = new InMemorySignInAttempts();
  const users = new InMemoryUserRepository(attempts, clock.now);
  const eventLog = new InMemoryEventLog(users);
  const hasher = new FastPasswordHasher();
  const sealer = new AesGcmSealer();
  const tokens = await JoseTokenService.create({
    privateKey: generateKeyPairSync('ed25519').privateKey,
    keyId: 'test-key',
    ttlSeconds: 900,
    now: clock.now,
  });
  const serviceSecrets = new Map([
    ['notifications', 'notifications-secret'],
    ['orders', 'orders-secret'],
  ]);
  const adapters: UserAdapters = {
    users,
    hasher,
    sealer,
    attempts,
    tokens,
    eventLog,
    dummyHash: await hasher.hash(`dummy-${uuidv7()}`),
    accountKey,
    serviceSecrets,
    now: clock.now,
    newId: uuidv7,
    settings: { source: USERS_EVENT_SOURCE, passwordResetTtlMs: 30 * 60_000, ...settings },
  };
  const app = buildApp(adapters);
  const callerOf = async (token: string): Promise<Caller> => {
    const claims = await app.verifyToken(token);
    return { subject: claims.subject, role: claims.role };
  };
  return {
    app,
    users,
    attempts,
    eventLog,
    clock,
    bootstrapAdmin: bootstrapAdmin({
      users,
      hasher,
      sealer,
      newId: uuidv7,
      now: clock.now,
      source: USERS_EVENT_SOURCE,
    }),
    async signUp(email = `${uuidv7()}@example.com`, password = TEST_PASSWORD) {
      await app.createUser({ email, name: 'Test User', password });
      const signedIn = await app.authenticate({ email, password });
      return { user: signedIn.user, token: signedIn.token, caller: await callerOf(signedIn.token) };
    },
    async service(name) {
      const { token } = await app.issueServiceToken({
        service: name,
        secret: serviceSecrets.get(name) ?? '',
      });
      return callerOf(token);
    },
  };
}
