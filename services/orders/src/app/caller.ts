import type { Role } from '@conveyor/platform/auth';
import { AppError } from '@conveyor/platform/errors';

/** Who calls a use case: the verified token's user and role, as the port read them. */
export interface Caller {
  subject: string;
  role: Role;
  /** The caller's own token, for a use case that asks another service on their behalf. */
  token: string;
}

const permissionDenied = (why: string) => new AppError('PERMISSION_DENIED', why);

export function requireRole(caller: Caller, roles: readonly Role[]): void {
  if (!roles.includes(caller.role))
    throw permissionDenied(`this call needs the ${roles.join(' or ')} role; the caller is ${caller.role}`);
}

/** PERMISSION_DENIED unless the caller is `ownerId` or an admin. */
export function requireOwnerOrAdmin(caller: Caller, ownerId: string, what: string): void {
  if (caller.subject !== ownerId && caller.role !== 'admin')
    throw permissionDenied(`${what} belongs to another user`);
}

/**
 * The user a customer acts for: themselves. Admins may name anyone (empty = themselves);
 * services place and list no orders.
 */
export function actingFor(caller: Caller, requested: string): string {
  requireRole(caller, ['customer', 'admin']);
  if (requested === '' || requested === caller.subject) return caller.subject;
  if (caller.role !== 'admin') throw permissionDenied('user_id: customers can only act for themselves');
  return requested;
}
