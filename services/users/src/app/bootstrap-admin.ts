import { newEvent } from '@conveyor/platform/core';
import { validatePassword } from '../domain/password-policy.ts';
import { type NewUserInput, registerUser } from '../domain/user.ts';
import { type CreateUserDeps, userCreated } from './create-user.ts';
import type { FirstAdminOutcome } from './user-repository.ts';

/**
 * The first admin, made by an operator (`conveyor users bootstrap-admin`), never by signing up:
 * an account with the admin role, announced as user.created and user.role_changed ("operator").
 * Refused once an unerased admin exists (admins then grant the role) and for a taken address, so
 * whoever signed up first with that address gains nothing.
 */
export function bootstrapAdmin(deps: CreateUserDeps) {
  return async (input: NewUserInput & { password: string }): Promise<FirstAdminOutcome> => {
    const user = { ...registerUser(input, { id: deps.newId(), now: deps.now() }), role: 'admin' as const };
    const password = validatePassword(input.password);
    const passwordHash = await deps.hasher.hash(password);
    const dataKey = deps.sealer.newKey();
    const granted = newEvent(
      'user.role_changed',
      {
        userId: user.id,
        role: 'admin',
        previousRole: null,
        changedBy: 'operator',
        changedAt: user.createdAt.toISOString(),
      },
      { source: deps.source, subject: user.id, time: user.createdAt },
    );
    return deps.users.createFirstAdmin({
      user,
      passwordHash,
      dataKey,
      events: [userCreated(deps, user, dataKey), granted],
    });
  };
}
