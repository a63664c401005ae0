import {
  appendToOutbox,
  type CloudEvent,
  isUniqueViolation,
  type Pool,
  withTransaction,
} from '@conveyor/platform';
import { alreadyExists } from '@conveyor/platform/errors';
import type { UserRepository } from '../app/user-repository.ts';
import type { User } from '../domain/user.ts';

interface UserRow {
  id: string;
  email: string;
  name: string;
  created_at: Date;
}

export class PostgresUserRepository implements UserRepository {
  readonly #pool: Pool;
  readonly #onCommitted: () => void;

  /** `onCommitted` runs after a user and its events committed (it wakes the outbox relay). */
  constructor(pool: Pool, onCommitted: () => void = () => {}) {
    this.#pool = pool;
    this.#onCommitted = onCommitted;
  }

  async create(user: User, events: readonly CloudEvent[]): Promise<void> {
    try {
      await withTransaction(this.#pool, async (tx) => {
        await tx.query('insert into users (id, email, name, created_at) values ($1, $2, $3, $4)', [
          user.id,
          user.email,
          user.name,
          user.createdAt,
        ]);
        await appendToOutbox(tx, events);
      });
      this.#onCommitted();
    } catch (error) {
      if (isUniqueViolation(error, 'users_email_key')) throw alreadyExists(`a user with email ${user.email}`);
      throw error;
    }
  }

  async findById(id: string): Promise<User | undefined> {
    const { rows } = await this.#pool.query<UserRow>(
      'select id, email, name, created_at from users where id = $1',
      [id],
    );
    const row = rows[0];
    return row && { id: row.id, email: row.email, name: row.name, createdAt: row.created_at };
  }
}
