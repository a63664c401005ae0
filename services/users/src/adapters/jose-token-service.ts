import { createPublicKey, type KeyObject, randomUUID } from 'node:crypto';
import { AppError } from '@conveyor/platform/errors';
import { exportJWK, type JWTHeaderParameters, jwtVerify, SignJWT } from 'jose';
import type { IssuedToken, PublicJwk, TokenService } from '../app/token-service.ts';
import { claimsFromPayload, type TokenClaims, type TokenRole } from '../domain/token-claims.ts';
import type { VerificationKey } from './signing-key.ts';

export const TOKEN_ISSUER = 'conveyor-users';
export const TOKEN_AUDIENCE = 'conveyor';
/** Device tokens (sign-in throttling) are for users only, never accepted as access tokens. */
const DEVICE_AUDIENCE = 'conveyor-users-device';
const DEVICE_TTL_S = 30 * 24 * 3600;
/** Allowed clock skew between replicas and callers. */
export const CLOCK_TOLERANCE_S = 5;

const unauthenticated = (why: string) => new AppError('UNAUTHENTICATED', `access token rejected: ${why}`);

/**
 * EdDSA (Ed25519) JWTs with jose. Verification pins the algorithm to EdDSA,
 * so `alg: none` and HS256 signed with the public key as a secret fail. It
 * signs with the current key and verifies with the key its `kid` names: the
 * current one or a previous one kept after a rotation (ADR 0022).
 */
export class JoseTokenService implements TokenService {
  readonly issuer = TOKEN_ISSUER;
  readonly audience = TOKEN_AUDIENCE;
  readonly #privateKey: KeyObject;
  readonly #keyId: string;
  readonly #verifying: ReadonlyMap<string, KeyObject>;
  readonly #ttlSeconds: number;
  readonly #now: () => Date;
  readonly #jwks: PublicJwk[];

  private constructor(
    key: KeyObject,
    keyId: string,
    verifying: ReadonlyMap<string, KeyObject>,
    ttlSeconds: number,
    now: () => Date,
    jwks: PublicJwk[],
  ) {
    this.#privateKey = key;
    this.#keyId = keyId;
    this.#verifying = verifying;
    this.#ttlSeconds = ttlSeconds;
    this.#now = now;
    this.#jwks = jwks;
  }

  static async create(options: {
    privateKey: KeyObject;
    keyId: string;
    /** Keys that signed before a rotation: they verify, never sign. */
    previous?: readonly VerificationKey[];
    ttlSeconds: number;
    now: () => Date;
  }): Promise<JoseTokenService> {
    const keys = [
      { keyId: options.keyId, publicKey: createPublicKey(options.privateKey) },
      ...(options.previous ?? []).filter((k) => k.keyId !== options.keyId),
    ];
    const jwks: PublicJwk[] = [];
    for (const { keyId, publicKey } of keys) {
      const jwk = await exportJWK(publicKey);
      jwks.push({
        kid: keyId,
        kty: jwk.kty ?? 'OKP',
        alg: 'EdDSA',
        crv: jwk.crv ?? 'Ed25519',
        x: jwk.x ?? '',
        y: '',
      });
    }
    return new JoseTokenService(
      options.privateKey,
      options.keyId,
      new Map(keys.map((k) => [k.keyId, k.publicKey])),
      options.ttlSeconds,
      options.now,
      jwks,
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
      ({ payload } = await jwtVerify(token, (header) => this.#keyFor(header), {
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

  async issueDevice(account: string): Promise<string> {
    const iat = Math.floor(this.#now().getTime() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: this.#keyId })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(DEVICE_AUDIENCE)
      .setSubject(account)
      .setJti(randomUUID())
      .setIssuedAt(iat)
      .setExpirationTime(iat + DEVICE_TTL_S)
      .sign(this.#privateKey);
  }

  async verifyDevice(token: string, account: string): Promise<string | undefined> {
    try {
      const { payload } = await jwtVerify(token, (header) => this.#keyFor(header), {
        algorithms: ['EdDSA'],
        issuer: TOKEN_ISSUER,
        audience: DEVICE_AUDIENCE,
        subject: account,
        clockTolerance: CLOCK_TOLERANCE_S,
        currentDate: this.#now(),
        requiredClaims: ['sub', 'exp', 'jti'],
      });
      return typeof payload.jti === 'string' ? payload.jti : undefined;
    } catch {
      return undefined;
    }
  }

  #keyFor(header: JWTHeaderParameters): KeyObject {
    const key = header.kid === undefined ? undefined : this.#verifying.get(header.kid);
    if (!key) throw Object.assign(new Error('unknown kid'), { code: 'CONVEYOR_UNKNOWN_KID' });
    return key;
  }

  publicKeys(): PublicJwk[] {
    return this.#jwks;
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
    case 'CONVEYOR_UNKNOWN_KID':
      return 'signed by an unknown key';
    default:
      return 'malformed';
  }
}
