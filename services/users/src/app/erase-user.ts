import { type Caller, newEvent, requireOwnerOrAdmin } from '@conveyor/platform/core';
import { notFound } from '@conveyor/platform/errors';
import { requireUuid } from '@conveyor/platform/validation';
import type { UserRepository } from './user-repository.ts';

/**
 * Erases a user (crypto-shredding): the data key goes, so every sealed copy
 * in events, the outbox and streams becomes unreadable; the plaintext goes;
 * user.erased tells consumers to drop theirs. Repeating it is not an error
 * and answers the first erasure's time. A user erases themselves, or an admin does.
 */
export function eraseUser(deps: { users: UserRepository; now: () => Date; source: string }) {
  return async (caller: Caller, rawId: string): Promise<Date> => {
    requireOwnerOrAdmin(caller, rawId, `user ${rawId}`);
    const id = requireUuid(rawId, 'id');
    const result = await deps.users.erase(id, deps.now(), (erasedAt) =>
      newEvent(
        'user.erased',
        { userId: id, erasedAt: erasedAt.toISOString() },
        { source: deps.source, subject: id, time: erasedAt },
      ),
    );
    if (!result) throw notFound(`user ${rawId}`);
    return result.erasedAt;
  };
}
