import { type Caller, newEvent, requireRole } from '@conveyor/platform/core';
import { failedPrecondition, notFound } from '@conveyor/platform/errors';
import { requireUuid } from '@conveyor/platform/validation';
import type { User, UserRole } from '../domain/user.ts';
import type { UserRepository } from './user-repository.ts';

/**
 * An admin gives a user a role (GrantRole: admin; RevokeRole: back to customer), recorded as
 * user.role_changed naming that admin. Asking for the role the user holds changes nothing; the
 * last admin keeps theirs. The change revokes the user's tokens (ADR 0022); the admin asking is one
 * now, since users checks its callers' token generation and a demotion revokes theirs.
 */
export function changeRole(deps: { users: UserRepository; now: () => Date; source: string }) {
  return async (caller: Caller, input: { userId: string; role: UserRole }): Promise<User> => {
    requireRole(caller, ['admin']);
    const id = requireUuid(input.userId, 'user_id');
    const outcome = await deps.users.setRole(
      id,
      input.role,
      (previous, at) =>
        newEvent(
          'user.role_changed',
          {
            userId: id,
            role: input.role,
            previousRole: previous,
            changedBy: caller.subject,
            changedAt: at.toISOString(),
          },
          { source: deps.source, subject: id, time: at },
        ),
      deps.now(),
    );
    switch (outcome.kind) {
      case 'not-found':
        throw notFound(`user ${input.userId}`);
      case 'last-admin':
        throw failedPrecondition('this is the last admin: grant the role to another user first');
      default:
        return outcome.user;
    }
  };
}
