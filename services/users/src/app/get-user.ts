import { notFound } from '@conveyor/platform/errors';
import { requireUuid } from '@conveyor/platform/validation';
import type { User } from '../domain/user.ts';
import type { UserRepository } from './user-repository.ts';

export function getUser(deps: { users: UserRepository }) {
  return async (rawId: string): Promise<User> => {
    const id = requireUuid(rawId, 'id');
    const user = await deps.users.findById(id);
    if (!user) throw notFound(`user ${rawId}`);
    return user;
  };
}
