import type { Caller } from '@conveyor/platform/core';
import { AppError, InvalidArgument } from '@conveyor/platform/errors';
import { validatePassword } from '../domain/password-policy.ts';
import type { User } from '../domain/user.ts';
import type { PasswordHasher } from './password-hasher.ts';
import { requireServiceAllowed } from './service-access.ts';
import type { IssuedToken, TokenService } from './token-service.ts';
import type { UserRepository } from './user-repository.ts';

/**
 * ChangePassword: the current password is checked the way Authenticate checks it (the same
 * throttling, through `authenticate`), the new one replaces it, every other session ends and the
 * caller gets a fresh token. The caller changes their own.
 */
export function changePassword(deps: {
  users: UserRepository;
  hasher: PasswordHasher;
  tokens: TokenService;
  authenticate: (input: { email: string; password: string }) => Promise<IssuedToken & { user: User }>;
}) {
  return async (
    caller: Caller,
    input: { currentPassword: string; newPassword: string },
  ): Promise<IssuedToken> => {
    requireServiceAllowed(caller, 'ChangePassword');
    const password = validatePassword(input.newPassword, 'new_password');
    const user = await deps.users.findById(caller.subject);
    if (!user) throw new AppError('UNAUTHENTICATED', 'access token rejected: its user no longer exists');
    try {
      await deps.authenticate({ email: user.email, password: input.currentPassword });
    } catch (error) {
      // Not the caller's credentials that are wrong, the field: the session stays.
      if (error instanceof AppError && error.code === 'UNAUTHENTICATED') {
        throw new InvalidArgument('current_password', 'is wrong');
      }
      throw error;
    }
    const generation = await deps.users.setPassword(user.id, await deps.hasher.hash(password));
    return deps.tokens.issue(user.id, user.role, generation);
  };
}
