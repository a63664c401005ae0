import type { CloudEvent } from '@conveyor/platform';
import type { User } from '../domain/user.ts';

/**
 * Where users live. `create` stores the user and its events atomically:
 * both commit or neither does (the outbox half of invariant 1).
 * It throws ALREADY_EXISTS when the email is taken.
 */
export interface UserRepository {
  create(user: User, events: readonly CloudEvent[]): Promise<void>;
  findById(id: string): Promise<User | undefined>;
}
