import { type Caller, requireOwnerOrAdmin } from '@conveyor/platform/core';
import { notFound } from '@conveyor/platform/errors';
import { requireUuid } from '@conveyor/platform/validation';
import type { User } from '../domain/user.ts';
import { requireServiceAllowed } from './service-access.ts';
import type { UserRepository } from './user-repository.ts';

/** A user, for themselves or an admin. */
export function getUser(deps: { users: UserRepository }) {
  return async (caller: Caller, rawId: string): Promise<User> => {
    requireServiceAllowed(caller, 'GetUser');
    requireOwnerOrAdmin(caller, rawId, `user ${rawId}`);
    const id = requireUuid(rawId, 'id');
    const user = await deps.users.findById(id);
    if (!user) throw notFound(`user ${rawId}`);
    return user;
  };
}
