import {
  appendToOutbox,
  type CloudEvent,
  isUniqueViolation,
  type Pool,
  withTransaction,
} from '@conveyor/platform';
import { AppError } from '@conveyor/platform/errors';
import type {
  FirstAdminOutcome,
  NewAccount,
  RoleChangeOutcome,
  UserRepository,
} from '../app/user-repository.ts';
import type { User, UserRole } from '../domain/user.ts';
import { accountKey } from './account-key.ts';

interface UserRow {
  id: string;
  email: string;
  name: string;
  role: UserRole;
  created_at: Date;
  token_generation: number;
}

const columns = 'id, email, name, role, created_at, token_generation';

// Role changes and the first admin take this lock, so two of them cannot both see "another admin
// is left" or "no admin yet" (they are rare: an operator's or an admin's action).
const lockRoles = `select pg_advisory_xact_lock(hashtextextended('conveyor.users.roles', 0))`;
const toUser = (row: UserRow): User => ({
  id: row.id,
  email: row.email,
  name: row.name,
  role: row.role,
  createdAt: row.created_at,
  tokenGeneration: row.token_generation,
});

export class PostgresUserRepository implements UserRepository {
  readonly #pool: Pool;
  readonly #onCommitted: () => void;

  /** `onCommitted` runs after a write and its events committed (it wakes the outbox relay). */
  constructor(pool: Pool, onCommitted: () => void = () => {}) {
    this.#pool = pool;
    this.#onCommitted = onCommitted;
  }

  async create({
    user,
    passwordHash,
    dataKey,
    events,
  }: NewAccount): Promise<{ created: true } | { created: false; ownerId: string }> {
    try {
      await withTransaction(this.#pool, async (tx) => {
        await tx.query(
          `insert into users (id, email, name, role, created_at, password_hash)
           values ($1, $2, $3, $4, $5, $6)`,
          [user.id, user.email, user.name, user.role, user.createdAt, passwordHash],
        );
        await tx.query('insert into user_keys (user_id, data_key) values ($1, $2)', [
          user.id,
          Buffer.from(dataKey),
        ]);
        await appendToOutbox(tx, events);
      });
      this.#onCommitted();
      return { created: true };
    } catch (error) {
      if (!isUniqueViolation(error, 'users_email_key')) throw error;
      const { rows } = await this.#pool.query<{ id: string }>('select id from users where email = $1', [
        user.email,
      ]);
      // Erased in between (erasure clears the email): the address is free again; the caller retries.
      if (!rows[0]) throw new AppError('UNAVAILABLE', 'the address was released while signing up; try again');
      return { created: false, ownerId: rows[0].id };
    }
  }

  async createFirstAdmin({ user, passwordHash, dataKey, events }: NewAccount): Promise<FirstAdminOutcome> {
    const outcome = await withTransaction(this.#pool, async (tx): Promise<FirstAdminOutcome> => {
      await tx.query(lockRoles);
      const { rows } = await tx.query<{ email: string }>(
        `select email from users where role = 'admin' and erased_at is null order by created_at limit 1`,
      );
      if (rows[0]) return { kind: 'admin-exists', email: rows[0].email };
      const inserted = await tx.query(
        `insert into users (id, email, name, role, created_at, password_hash)
         values ($1, $2, $3, 'admin', $4, $5)
         on conflict (email) do nothing`,
        [user.id, user.email, user.name, user.createdAt, passwordHash],
      );
      if (inserted.rowCount === 0) return { kind: 'email-taken' };
      await tx.query('insert into user_keys (user_id, data_key) values ($1, $2)', [
        user.id,
        Buffer.from(dataKey),
      ]);
      await appendToOutbox(tx, events);
      return { kind: 'created', user: { ...user, role: 'admin' } };
    });
    if (outcome.kind === 'created') this.#onCommitted();
    return outcome;
  }

  async setRole(
    id: string,
    role: UserRole,
    changeEvent: (previous: UserRole, at: Date) => CloudEvent,
    now: Date,
  ): Promise<RoleChangeOutcome> {
    const outcome = await withTransaction(this.#pool, async (tx): Promise<RoleChangeOutcome> => {
      await tx.query(lockRoles);
      const { rows } = await tx.query<UserRow>(
        `select ${columns} from users where id = $1 and erased_at is null for update`,
        [id],
      );
      const row = rows[0];
      if (!row) return { kind: 'not-found' };
      if (row.role === role) return { kind: 'unchanged', user: toUser(row) };
      if (row.role === 'admin') {
        const { rows: others } = await tx.query(
          `select 1 from users where role = 'admin' and erased_at is null and id <> $1 limit 1`,
          [id],
        );
        if (others.length === 0) return { kind: 'last-admin' };
      }
      // Tokens issued under the old role are refused from now on (VerifyToken compares generations).
      await tx.query('update users set role = $2, token_generation = token_generation + 1 where id = $1', [
        id,
        role,
      ]);
      await appendToOutbox(tx, [changeEvent(row.role, now)]);
      return { kind: 'changed', user: { ...toUser(row), role, tokenGeneration: row.token_generation + 1 } };
    });
    if (outcome.kind === 'changed') this.#onCommitted();
    return outcome;
  }

  async announceSignupAttempt(
    ownerId: string,
    at: Date,
    minGapMs: number,
    event: CloudEvent,
  ): Promise<boolean> {
    const announced = await withTransaction(this.#pool, async (tx) => {
      const { rowCount } = await tx.query(
        `update users set signup_attempt_announced_at = $2
         where id = $1 and erased_at is null
           and (signup_attempt_announced_at is null
                or signup_attempt_announced_at <= $2::timestamptz - make_interval(secs => $3 / 1000.0))`,
        [ownerId, at, minGapMs],
      );
      if (rowCount === 0) return false;
      await appendToOutbox(tx, [event]);
      return true;
    });
    if (announced) this.#onCommitted();
    return announced;
  }

  async storePasswordReset(
    userId: string,
    reset: { tokenHash: Buffer; expiresAt: Date; at: Date; minGapMs: number },
    event: CloudEvent,
  ): Promise<boolean> {
    const stored = await withTransaction(this.#pool, async (tx) => {
      const { rowCount } = await tx.query(
        `insert into password_resets (user_id, token_hash, expires_at, requested_at)
         select id, $2, $3, $4 from users where id = $1 and erased_at is null
         on conflict (user_id) do update
           set token_hash = excluded.token_hash, expires_at = excluded.expires_at,
               requested_at = excluded.requested_at, used_at = null
           where password_resets.requested_at <= excluded.requested_at - make_interval(secs => $5 / 1000.0)`,
        [userId, reset.tokenHash, reset.expiresAt, reset.at, reset.minGapMs],
      );
      if (rowCount === 0) return false;
      await appendToOutbox(tx, [event]);
      return true;
    });
    if (stored) this.#onCommitted();
    return stored;
  }

  async resetPassword(tokenHash: Buffer, passwordHash: string, now: Date): Promise<string | undefined> {
    return withTransaction(this.#pool, async (tx) => {
      const { rows } = await tx.query<{ user_id: string }>(
        `update password_resets set used_at = $2
         where token_hash = $1 and used_at is null and expires_at > $2 returning user_id`,
        [tokenHash, now],
      );
      const userId = rows[0]?.user_id;
      if (!userId) return undefined;
      const { rows: users } = await tx.query<{ email: string }>(
        `update users set password_hash = $2, token_generation = token_generation + 1
         where id = $1 and erased_at is null returning email`,
        [userId, passwordHash],
      );
      if (!users[0]) return undefined;
      await tx.query('delete from sign_in_failures where account = $1', [accountKey(users[0].email)]);
      return userId;
    });
  }

  async setPassword(userId: string, passwordHash: string): Promise<number> {
    const { rows } = await this.#pool.query<{ token_generation: number }>(
      `update users set password_hash = $2, token_generation = token_generation + 1
       where id = $1 and erased_at is null returning token_generation`,
      [userId, passwordHash],
    );
    if (!rows[0]) throw new AppError('NOT_FOUND', `user ${userId} was erased`);
    return rows[0].token_generation;
  }

  async revokeTokens(id: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      'update users set token_generation = token_generation + 1 where id = $1 and erased_at is null',
      [id],
    );
    return rowCount === 1;
  }

  async findById(id: string): Promise<User | undefined> {
    const { rows } = await this.#pool.query<UserRow>(
      `select ${columns} from users where id = $1 and erased_at is null`,
      [id],
    );
    return rows[0] && toUser(rows[0]);
  }

  async findCredentials(email: string): Promise<{ user: User; passwordHash: string } | undefined> {
    const { rows } = await this.#pool.query<UserRow & { password_hash: string }>(
      `select ${columns}, password_hash from users
       where email = $1 and erased_at is null and password_hash is not null`,
      [email],
    );
    const row = rows[0];
    return row && { user: toUser(row), passwordHash: row.password_hash };
  }

  async findDataKey(userId: string): Promise<Uint8Array | undefined> {
    const { rows } = await this.#pool.query<{ data_key: Buffer }>(
      'select data_key from user_keys where user_id = $1',
      [userId],
    );
    return rows[0] && new Uint8Array(rows[0].data_key);
  }

  async erase(
    id: string,
    now: Date,
    eraseEvent: (erasedAt: Date) => CloudEvent,
  ): Promise<{ erasedAt: Date; erasedNow: boolean } | undefined> {
    const result = await withTransaction(this.#pool, async (tx) => {
      const { rows } = await tx.query<{ email: string | null; erased_at: Date | null }>(
        'select email, erased_at from users where id = $1 for update',
        [id],
      );
      const row = rows[0];
      if (!row) return undefined;
      if (row.erased_at) return { erasedAt: row.erased_at, erasedNow: false };
      await tx.query('delete from user_keys where user_id = $1', [id]);
      await tx.query('delete from password_resets where user_id = $1', [id]);
      await tx.query(
        `update users set email = null, name = null, password_hash = null, erased_at = $2 where id = $1`,
        [id, now],
      );
      if (row.email !== null) {
        await tx.query('delete from sign_in_failures where account = $1', [accountKey(row.email)]);
      }
      await appendToOutbox(tx, [eraseEvent(now)]);
      return { erasedAt: now, erasedNow: true };
    });
    if (result?.erasedNow) this.#onCommitted();
    return result;
  }
}
