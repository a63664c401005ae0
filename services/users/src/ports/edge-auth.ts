import { AppError } from '@conveyor/platform/errors';
import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';
import type { TokenClaims, TokenRole } from '../domain/token-claims.ts';

/** Who is calling, from a verified access token. */
export type Principal = Pick<TokenClaims, 'subject' | 'role'>;

/** The token of `authorization: Bearer <jwt>`, or undefined. */
export function bearerToken(metadata: Metadata): string | undefined {
  const value = metadata.get('authorization')[0];
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return match?.[1];
}

/**
 * Wraps a handler so it only runs for a caller with a valid token:
 * missing or invalid → UNAUTHENTICATED. `verify` checks the token locally
 * with this service's own key; `allowed` then decides for the request
 * (PERMISSION_DENIED when it says no). Handlers and use cases stay free of auth.
 */
export function authorized<Req, Res>(
  verify: (token: string) => Promise<TokenClaims>,
  allowed: (principal: Principal, request: Req) => boolean,
  handler: (request: Req, principal: Principal) => Promise<Res>,
): (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res> {
  return async (request, call) => {
    const token = bearerToken(call.metadata);
    if (!token) throw new AppError('UNAUTHENTICATED', 'missing authorization: Bearer <access token>');
    const principal = await verify(token);
    if (!allowed(principal, request)) {
      throw new AppError('PERMISSION_DENIED', `a ${principal.role} may not make this call`);
    }
    return handler(request, principal);
  };
}

/** The user themselves, or any caller with one of `roles`. */
export const selfOr =
  (roles: readonly TokenRole[], userIdOf: (request: never) => string) =>
  (principal: Principal, request: unknown): boolean =>
    roles.includes(principal.role) ||
    (principal.role !== 'service' && principal.subject === userIdOf(request as never));

export const onlyRoles =
  (roles: readonly TokenRole[]) =>
  (principal: Principal): boolean =>
    roles.includes(principal.role);
