import { InvalidArgument, notFound } from '@conveyor/platform/errors';
import type { User } from '../domain/user.ts';
import type { UserRepository } from './user-repository.ts';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function getUser(deps: { users: UserRepository }) {
  return async (id: string): Promise<User> => {
    if (!id) throw new InvalidArgument('id', 'is required');
    if (!uuidPattern.test(id)) throw new InvalidArgument('id', `"${id}" is not a UUID`);
    const user = await deps.users.findById(id.toLowerCase());
    if (!user) throw notFound(`user ${id}`);
    return user;
  };
}
