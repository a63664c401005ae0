import type { Metadata } from '@grpc/grpc-js';
import { AppError } from '../errors.ts';
import { bearerToken } from './bearer-token.ts';
import type { Principal, Role } from './principal.ts';
import type { TokenVerifier } from './token-verifier.ts';

const permissionDenied = (why: string) => new AppError('PERMISSION_DENIED', why);

/**
 * Wraps a port handler so it runs only for a verified caller: missing or
 * invalid tokens are UNAUTHENTICATED before the handler runs. The handler
 * receives the Principal and decides ownership with the helpers below.
 */
export function authenticated<Req, Call extends { metadata: Metadata }, Res>(
  verifier: TokenVerifier,
  handler: (request: Req, principal: Principal, call: Call) => Promise<Res>,
): (request: Req, call: Call) => Promise<Res> {
  return async (request, call) => handler(request, await verifier.verify(bearerToken(call.metadata)), call);
}

/** As `authenticated`, and PERMISSION_DENIED unless the caller has one of `roles`. */
export function authorized<Req, Call extends { metadata: Metadata }, Res>(
  verifier: TokenVerifier,
  roles: readonly Role[],
  handler: (request: Req, principal: Principal, call: Call) => Promise<Res>,
): (request: Req, call: Call) => Promise<Res> {
  return authenticated(verifier, async (request: Req, principal, call: Call) => {
    requireRole(principal, roles);
    return handler(request, principal, call);
  });
}

/** Who calls a use case, as far as access rules go: the verified token's user and role. */
export type Caller = Pick<Principal, 'subject' | 'role'>;

export function requireRole(principal: Caller, roles: readonly Role[]): void {
  if (!roles.includes(principal.role))
    throw permissionDenied(`this call needs the ${roles.join(' or ')} role; the caller is ${principal.role}`);
}

export const isAdmin = (principal: Caller) => principal.role === 'admin';

/** PERMISSION_DENIED unless the caller is `ownerId` or an admin. */
export function requireOwnerOrAdmin(principal: Caller, ownerId: string, what: string): void {
  if (principal.subject !== ownerId && !isAdmin(principal))
    throw permissionDenied(`${what} belongs to another user`);
}
