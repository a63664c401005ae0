import { type Caller, requireRole } from '@conveyor/platform/core';
import { AppError, InvalidArgument } from '@conveyor/platform/errors';
import { requireUuid } from '@conveyor/platform/validation';
import type { PersonalData } from '../domain/user.ts';
import type { PersonalDataSealer } from './personal-data-sealer.ts';
import { requireServiceAllowed } from './service-access.ts';
import type { UserRepository } from './user-repository.ts';

/**
 * Opens personal data sealed into an event, for the services allowed to (notifications); NOT_FOUND
 * once the user's key is gone.
 */
export function revealPersonalData(deps: { users: UserRepository; sealer: PersonalDataSealer }) {
  return async (caller: Caller, input: { userId: string; sealed: string }): Promise<PersonalData> => {
    requireRole(caller, ['service']);
    requireServiceAllowed(caller, 'RevealPersonalData');
    const userId = requireUuid(input.userId, 'user_id');
    if (!input.sealed) throw new InvalidArgument('sealed', 'is required');
    const key = await deps.users.findDataKey(userId);
    if (!key) throw new AppError('NOT_FOUND', `user ${userId} was erased or never existed`);
    const data = deps.sealer.open(key, userId, input.sealed);
    if (!data) throw new InvalidArgument('sealed', 'is not personal data sealed for this user');
    return data;
  };
}
