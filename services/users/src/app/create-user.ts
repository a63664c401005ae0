import { newEvent } from '@conveyor/platform';
import { type NewUserInput, registerUser, type User } from '../domain/user.ts';
import type { UserRepository } from './user-repository.ts';

export interface CreateUserDeps {
  users: UserRepository;
  newId: () => string;
  now: () => Date;
  /** CloudEvents `source` of this service's events. */
  source: string;
}

/** Registers a user and announces it as `user.created`, in one transaction. */
export function createUser(deps: CreateUserDeps) {
  return async (input: NewUserInput): Promise<User> => {
    const user = registerUser(input, { id: deps.newId(), now: deps.now() });
    const created = newEvent(
      'user.created',
      { userId: user.id, email: user.email, name: user.name, createdAt: user.createdAt.toISOString() },
      { source: deps.source, subject: user.id, time: user.createdAt },
    );
    await deps.users.create(user, [created]);
    return user;
  };
}
