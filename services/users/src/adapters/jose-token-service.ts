import { createPublicKey, type KeyObject, randomUUID } from 'node:crypto';
import { AppError } from '@conveyor/platform/errors';
import { exportJWK, jwtVerify, SignJWT } from 'jose';
import type { IssuedToken, PublicJwk, TokenService } from '../app/token-service.ts';
import { claimsFromPayload, type TokenClaims, type TokenRole } from '../domain/token-claims.ts';

export const TOKEN_ISSUER = 'conveyor-users';
export const TOKEN_AUDIENCE = 'conveyor';
/** Allowed clock skew between replicas and callers. */
export const CLOCK_TOLERANCE_S = 5;

const unauthenticated = (why: string) => new AppError('UNAUTHENTICATED', `access token rejected: ${why}`);

/**
 * EdDSA (Ed25519) JWTs with jose. Verification pins the algorithm to EdDSA,
 * so `alg: none` and HS256 signed with the public key as a secret fail.
 */
export class JoseTokenService implements TokenService {
  readonly issuer = TOKEN_ISSUER;
  readonly audience = TOKEN_AUDIENCE;
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  readonly #keyId: string;
  readonly #ttlSeconds: number;
  readonly #now: () => Date;
  readonly #jwk: PublicJwk;

  private constructor(key: KeyObject, keyId: string, ttlSeconds: number, now: () => Date, jwk: PublicJwk) {
    this.#privateKey = key;
    this.#publicKey = createPublicKey(key);
    this.#keyId = keyId;
    this.#ttlSeconds = ttlSeconds;
    this.#now = now;
    this.#jwk = jwk;
  }

  static async create(options: {
    privateKey: KeyObject;
    keyId: string;
    ttlSeconds: number;
    now: () => Date;
  }): Promise<JoseTokenService> {
    const jwk = await exportJWK(createPublicKey(options.privateKey));
    const publicJwk: PublicJwk = {
      kid: options.keyId,
      kty: jwk.kty ?? 'OKP',
      alg: 'EdDSA',
      crv: jwk.crv ?? 'Ed25519',
      x: jwk.x ?? '',
      y: '',
    };
    return new JoseTokenService(
      options.privateKey,
      options.keyId,
      options.ttlSeconds,
      options.now,
      publicJwk,
    );
  }

  async issue(subject: string, role: TokenRole, generation = 0): Promise<IssuedToken> {
    const iat = Math.floor(this.#now().getTime() / 1000);
    const exp = iat + this.#ttlSeconds;
    const token = await new SignJWT(generation > 0 ? { role, gen: generation } : { role })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: this.#keyId })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject(subject)
      .setJti(randomUUID())
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.#privateKey);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  async verify(token: string): Promise<TokenClaims> {
    if (token === '') throw new AppError('UNAUTHENTICATED', 'access token missing');
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.#publicKey, {
        algorithms: ['EdDSA'],
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        clockTolerance: CLOCK_TOLERANCE_S,
        currentDate: this.#now(),
        requiredClaims: ['sub', 'exp', 'iat', 'jti'],
      }));
    } catch (error) {
      throw unauthenticated(reasonOf(error));
    }
    const claims = claimsFromPayload(payload);
    if (!claims) throw unauthenticated('claims malformed');
    return claims;
  }

  publicKeys(): PublicJwk[] {
    return [this.#jwk];
  }
}

/** jose's error codes, mapped to short reasons that never include the token. */
function reasonOf(error: unknown): string {
  switch ((error as { code?: string }).code) {
    case 'ERR_JWT_EXPIRED':
      return 'expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return `claim ${(error as { claim?: string }).claim ?? ''} invalid`.replace('  ', ' ');
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'algorithm not allowed';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'signature invalid';
    default:
      return 'malformed';
  }
}
