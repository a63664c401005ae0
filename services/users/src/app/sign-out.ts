import type { Caller } from '@conveyor/platform/core';
import { notFound } from '@conveyor/platform/errors';
import { requireServiceAllowed } from './service-access.ts';
import type { UserRepository } from './user-repository.ts';

/**
 * Ends every session of a user: their token generation moves on, so VerifyToken refuses every
 * token issued before, and the services that cache its verdicts within AUTH_CACHE_TTL_MS. The
 * caller signs themselves out.
 */
export function signOut(deps: { users: UserRepository }) {
  return async (caller: Caller): Promise<void> => {
    requireServiceAllowed(caller, 'SignOut');
    if (!(await deps.users.revokeTokens(caller.subject))) throw notFound(`user ${caller.subject}`);
  };
}
