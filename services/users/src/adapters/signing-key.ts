import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
} from 'node:crypto';
import { ConfigError, type Pool } from '@conveyor/platform';
import type { Logger } from 'pino';

export interface SigningKey {
  keyId: string;
  privateKey: KeyObject;
}

/**
 * The token signing key: USERS_JWT_PRIVATE_KEY (PKCS#8 PEM, Ed25519) with
 * USERS_JWT_KEY_ID from configuration (a Kubernetes secret). Outside
 * production, when unset, a development key is generated once and kept in
 * the users schema so every replica signs and verifies with the same key
 * (insert-if-absent, then read what won). Errors never echo the key.
 */
export async function loadSigningKey(options: {
  pem: string | undefined;
  keyId: string | undefined;
  production: boolean;
  pool: Pool;
  logger: Logger;
}): Promise<SigningKey> {
  if (options.pem) {
    const privateKey = parseEd25519(options.pem.replace(/\\n/g, '\n'));
    if (!options.keyId) {
      throw new ConfigError(['USERS_JWT_KEY_ID is not set: required with USERS_JWT_PRIVATE_KEY']);
    }
    return { keyId: options.keyId, privateKey };
  }
  if (options.production) {
    throw new ConfigError([
      'USERS_JWT_PRIVATE_KEY is not set: required in production (PKCS#8 PEM of an Ed25519 key)',
    ]);
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  const candidate = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  await options.pool.query(
    `insert into signing_keys (name, key_id, private_key_pem) values ('dev', $1, $2)
     on conflict (name) do nothing`,
    [`dev-${randomUUID()}`, candidate],
  );
  const { rows } = await options.pool.query<{ key_id: string; private_key_pem: string }>(
    `select key_id, private_key_pem from signing_keys where name = 'dev'`,
  );
  const row = rows[0]!;
  options.logger.warn(
    { keyId: row.key_id },
    'USERS_JWT_PRIVATE_KEY unset: signing with the development key stored in the database',
  );
  return { keyId: row.key_id, privateKey: parseEd25519(row.private_key_pem) };
}

function parseEd25519(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new ConfigError(['USERS_JWT_PRIVATE_KEY is not a PKCS#8 PEM private key']);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError([
      `USERS_JWT_PRIVATE_KEY is a ${key.asymmetricKeyType} key: expected Ed25519 (tokens are signed EdDSA)`,
    ]);
  }
  return key;
}

/** A key that signed tokens before a rotation: verifies them until they expire, signs nothing. */
export interface VerificationKey {
  keyId: string;
  publicKey: KeyObject;
}

/**
 * The previous signing key after a rotation (ADR 0022): USERS_JWT_PREVIOUS_PUBLIC_KEY (SPKI PEM,
 * Ed25519) with USERS_JWT_PREVIOUS_KEY_ID. Its tokens stay valid until they expire, and it is
 * published in the JWK set beside the current key, so services verifying locally accept them too.
 */
export function loadPreviousKey(pem: string | undefined, keyId: string | undefined): VerificationKey[] {
  if (!pem && !keyId) return [];
  if (!pem || !keyId) {
    throw new ConfigError([
      'USERS_JWT_PREVIOUS_PUBLIC_KEY and USERS_JWT_PREVIOUS_KEY_ID: set both (the key that signed before a rotation) or neither',
    ]);
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem.replace(/\\n/g, '\n'), format: 'pem' });
  } catch {
    throw new ConfigError(['USERS_JWT_PREVIOUS_PUBLIC_KEY is not a PEM public key']);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError([
      `USERS_JWT_PREVIOUS_PUBLIC_KEY is a ${key.asymmetricKeyType} key: expected Ed25519`,
    ]);
  }
  return [{ keyId, publicKey: key }];
}
