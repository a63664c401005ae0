/** Who a token speaks for. */
export type TokenRole = 'customer' | 'admin' | 'service';

/** The verified claims of an access token, as the service uses them. */
export interface TokenClaims {
  /** A user id, or `service:<name>`. */
  subject: string;
  role: TokenRole;
  issuedAt: Date;
  expiresAt: Date;
  tokenId: string;
  /** The user's token generation when it was issued (0 for service tokens and older tokens). */
  generation: number;
}

const roles: readonly TokenRole[] = ['customer', 'admin', 'service'];

export const serviceSubject = (service: string) => `service:${service}`;

/** The service name of a `service:<name>` subject, else undefined. */
export function serviceNameOf(subject: string): string | undefined {
  return subject.startsWith('service:') ? subject.slice('service:'.length) : undefined;
}

/**
 * Maps a signature-checked JWT payload to claims; undefined when a claim is
 * missing or inconsistent (a service role needs a service subject and back).
 */
export function claimsFromPayload(payload: Record<string, unknown>): TokenClaims | undefined {
  const { sub, role, iat, exp, jti, gen = 0 } = payload;
  if (typeof gen !== 'number' || !Number.isSafeInteger(gen) || gen < 0) return undefined;
  if (typeof sub !== 'string' || sub === '' || typeof jti !== 'string' || jti === '') return undefined;
  if (typeof iat !== 'number' || typeof exp !== 'number' || exp <= iat) return undefined;
  if (typeof role !== 'string' || !roles.includes(role as TokenRole)) return undefined;
  if ((role === 'service') !== (serviceNameOf(sub) !== undefined)) return undefined;
  return {
    subject: sub,
    role: role as TokenRole,
    issuedAt: new Date(iat * 1000),
    expiresAt: new Date(exp * 1000),
    tokenId: jti,
    generation: gen,
  };
}
