import { requireRole, type Caller as VerifiedCaller } from '@conveyor/platform/core';
import { AppError } from '@conveyor/platform/errors';

export { requireOwnerOrAdmin, requireRole } from '@conveyor/platform/core';

/** Who calls an order use case: the verified token's user and role, as the port read them. */
export interface Caller extends VerifiedCaller {
  /** The caller's own token, for a use case that asks another service on their behalf. */
  token: string;
}

/**
 * The user a customer acts for: themselves. Admins may name anyone (empty = themselves);
 * services place and list no orders.
 */
export function actingFor(caller: Caller, requested: string): string {
  requireRole(caller, ['customer', 'admin']);
  if (requested === '' || requested === caller.subject) return caller.subject;
  if (caller.role !== 'admin')
    throw new AppError('PERMISSION_DENIED', 'user_id: customers can only act for themselves');
  return requested;
}
