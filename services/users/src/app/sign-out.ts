import { notFound } from '@conveyor/platform/errors';
import type { UserRepository } from './user-repository.ts';

/**
 * Ends every session of a user: their token generation moves on, so VerifyToken refuses every
 * token issued before, and the services that cache its verdicts within AUTH_CACHE_TTL_MS.
 */
export function signOut(deps: { users: UserRepository }) {
  return async (userId: string): Promise<void> => {
    if (!(await deps.users.revokeTokens(userId))) throw notFound(`user ${userId}`);
  };
}
