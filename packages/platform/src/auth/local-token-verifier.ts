import { createLocalJWKSet, errors, type JWK, jwtVerify } from 'jose';
import { unauthenticated } from './bearer-token.ts';
import { isRole, type Principal } from './principal.ts';

/** The users service's public keys and the iss/aud its tokens carry. */
export interface PublicKeySet {
  keys: JWK[];
  issuer: string;
  audience: string;
}

/**
 * The one algorithm users signs with (Ed25519): `none`, HS* and any other algorithm never verify
 * here, whatever keys the set holds.
 */
export const acceptedAlgorithms = ['EdDSA'];

export class UnknownKeyError extends Error {}

/** One resolver per fetched key set: jose imports each key once, not on every verification. */
const resolvers = new WeakMap<PublicKeySet, ReturnType<typeof createLocalJWKSet>>();
function keyResolver(set: PublicKeySet): ReturnType<typeof createLocalJWKSet> {
  let resolver = resolvers.get(set);
  if (!resolver) {
    resolver = createLocalJWKSet({ keys: set.keys });
    resolvers.set(set, resolver);
  }
  return resolver;
}

/**
 * Verifies a token's signature, expiry, issuer and audience against a key
 * set, without the users service. Cannot know about erasure or revocation:
 * see ADR 0012 for when this is allowed.
 */
export async function verifyLocally(token: string, set: PublicKeySet, now: Date): Promise<Principal> {
  try {
    const { payload } = await jwtVerify(token, keyResolver(set), {
      issuer: set.issuer,
      audience: set.audience,
      algorithms: acceptedAlgorithms,
      currentDate: now,
      requiredClaims: ['sub', 'exp', 'iat', 'jti'],
    });
    const role = payload.role;
    if (!isRole(role)) throw unauthenticated('invalid access token: unknown role');
    return {
      subject: payload.sub as string,
      role,
      tokenId: payload.jti as string,
      expiresAt: new Date((payload.exp as number) * 1000),
    };
  } catch (error) {
    if (error instanceof errors.JWKSNoMatchingKey) throw new UnknownKeyError('no key matches the token');
    if (error instanceof errors.JWTExpired) throw unauthenticated('access token expired');
    if (error instanceof errors.JOSEError) throw unauthenticated(`invalid access token: ${error.code}`);
    throw error;
  }
}
