import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { PersonalDataSealer } from '../app/personal-data-sealer.ts';
import type { PersonalData } from '../domain/user.ts';

const IV_BYTES = 12;
const TAG_BYTES = 16;
export const DATA_KEY_BYTES = 32;

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

/**
 * AES-256-GCM with the user id as associated data, so a sealed value cannot
 * be replayed under another user. Format `v1.<iv>.<ciphertext+tag>`
 * (base64url), the `personalData` field of user.created v2.
 */
export class AesGcmSealer implements PersonalDataSealer {
  newKey(): Uint8Array {
    return new Uint8Array(randomBytes(DATA_KEY_BYTES));
  }

  seal(key: Uint8Array, userId: string, data: PersonalData, iv: Uint8Array = randomBytes(IV_BYTES)): string {
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(userId, 'utf8'));
    const fields = { e: data.email, n: data.name, ...(data.resetToken ? { r: data.resetToken } : {}) };
    const plaintext = Buffer.from(JSON.stringify(fields), 'utf8');
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return `v1.${text(iv)}.${text(sealed)}`;
  }

  /** undefined when the value is malformed, tampered with, or sealed for another user or key. */
  open(key: Uint8Array, userId: string, sealed: string): PersonalData | undefined {
    const match = /^v1\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(sealed);
    if (!match) return undefined;
    const iv = Buffer.from(match[1]!, 'base64url');
    const body = Buffer.from(match[2]!, 'base64url');
    if (iv.length !== IV_BYTES || body.length <= TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(userId, 'utf8'));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(body.subarray(0, body.length - TAG_BYTES)),
        decipher.final(),
      ]);
      const parsed = JSON.parse(plain.toString('utf8')) as { e?: unknown; n?: unknown; r?: unknown };
      if (typeof parsed.e !== 'string' || typeof parsed.n !== 'string') return undefined;
      if (parsed.r !== undefined && typeof parsed.r !== 'string') return undefined;
      return { email: parsed.e, name: parsed.n, ...(parsed.r ? { resetToken: parsed.r } : {}) };
    } catch {
      return undefined;
    }
  }
}
