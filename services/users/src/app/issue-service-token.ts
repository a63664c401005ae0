import { createHash, timingSafeEqual } from 'node:crypto';
import { AppError, InvalidArgument } from '@conveyor/platform/errors';
import { serviceSubject } from '../domain/token-claims.ts';
import type { IssuedToken, TokenService } from './token-service.ts';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Exchanges a configured service secret for a service token. Compared in
 * constant time over digests (equal lengths whatever the input); unknown
 * service and wrong secret get the same answer.
 */
export function issueServiceToken(deps: { tokens: TokenService; secrets: ReadonlyMap<string, string> }) {
  return async (input: { service: string; secret: string }): Promise<IssuedToken> => {
    if (!input.service) throw new InvalidArgument('service', 'is required');
    if (!input.secret) throw new InvalidArgument('secret', 'is required');
    const expected = deps.secrets.get(input.service);
    const ok = timingSafeEqual(digest(expected ?? '\u0000unknown'), digest(input.secret));
    if (!expected || !ok) throw new AppError('UNAUTHENTICATED', 'unknown service or wrong secret');
    return deps.tokens.issue(serviceSubject(input.service), 'service');
  };
}
