import type { JWK } from 'jose';
import type { TokenClaims, TokenRole } from '../domain/token-claims.ts';

export interface IssuedToken {
  token: string;
  expiresAt: Date;
}

/** A public key as a JSON Web Key (RFC 7517); `y` is empty for the Ed25519 (OKP) keys this service signs with. */
export type PublicJwk = Required<Pick<JWK, 'kid' | 'kty' | 'alg' | 'crv' | 'x' | 'y'>>;

/** Signs and checks access tokens with this service's key. */
export interface TokenService {
  /** `generation`: the user's token generation, which VerifyToken compares (revocation). */
  issue(subject: string, role: TokenRole, generation?: number): Promise<IssuedToken>;
  /** Signature, algorithm, issuer, audience and expiry; throws UNAUTHENTICATED naming no secret. */
  verify(token: string): Promise<TokenClaims>;
  publicKeys(): PublicJwk[];
  /** A device token: this client signed in to the account with key `account` (30 days). */
  issueDevice(account: string): Promise<string>;
  /** The device's id when `token` is a valid device token for `account`, else undefined. */
  verifyDevice(token: string, account: string): Promise<string | undefined>;
  readonly issuer: string;
  readonly audience: string;
}
