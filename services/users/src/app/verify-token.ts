import { AppError } from '@conveyor/platform/errors';
import { serviceNameOf, type TokenClaims } from '../domain/token-claims.ts';
import type { TokenService } from './token-service.ts';
import type { UserRepository } from './user-repository.ts';

/**
 * Checks a token fully: signature and claims (TokenService), then that its
 * subject still exists (a user not erased, or a service still configured) and,
 * for a user, that it was issued under their current token generation.
 */
export function verifyToken(deps: {
  tokens: TokenService;
  users: UserRepository;
  services: ReadonlySet<string>;
}) {
  return async (token: string): Promise<TokenClaims> => {
    const claims = await deps.tokens.verify(token);
    const service = serviceNameOf(claims.subject);
    if (service !== undefined) {
      if (!deps.services.has(service)) {
        throw new AppError('UNAUTHENTICATED', `access token rejected: service ${service} is not configured`);
      }
      return claims;
    }
    const user = await deps.users.findById(claims.subject);
    if (!user) throw new AppError('UNAUTHENTICATED', 'access token rejected: its user no longer exists');
    // Signed out, or the role changed, since it was issued (issue 21).
    if (claims.generation !== user.tokenGeneration) {
      throw new AppError('UNAUTHENTICATED', 'access token revoked: sign in again');
    }
    return claims;
  };
}
