import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

function seal(key: Uint8Array, plain: Uint8Array, aad: string): { iv: Buffer; body: Buffer } {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  return { iv, body: Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]) };
}

function open(key: Uint8Array, iv: Buffer, body: Buffer, aad: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
  return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]);
}

/**
 * Webhook signing secrets at rest, envelope-encrypted (issue 22): each secret is sealed with its own
 * data key (AES-256-GCM, the webhook's id as associated data, so a value cannot be moved to another
 * row), and the data key is wrapped with a key-encryption key from configuration
 * (`WEBHOOK_SECRET_KEYS`, `kid=base64url-32-bytes`, the first one current). Stored as
 * `v1.<kid>.<iv>.<wrapped data key>.<iv>.<sealed secret>`. Rotation rewraps the data keys only.
 */
export class WebhookSecretBox {
  readonly #keys: ReadonlyMap<string, Uint8Array>;
  readonly currentKeyId: string;

  constructor(keys: readonly { id: string; key: Uint8Array }[]) {
    const first = keys[0];
    if (!first) throw new Error('WEBHOOK_SECRET_KEYS: at least one key');
    for (const { id, key } of keys) {
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(id))
        throw new Error(`WEBHOOK_SECRET_KEYS: key id ${JSON.stringify(id)} is not [A-Za-z0-9_-]{1,32}`);
      if (key.length !== KEY_BYTES) throw new Error(`WEBHOOK_SECRET_KEYS: key ${id} is not 32 bytes`);
    }
    this.#keys = new Map(keys.map((k) => [k.id, k.key]));
    this.currentKeyId = first.id;
  }

  /** `kid=base64url,kid2=base64url`: the first is current, the others only open what they sealed. */
  static parse(setting: string): WebhookSecretBox {
    return new WebhookSecretBox(
      setting.split(',').map((entry) => {
        const at = entry.indexOf('=');
        return {
          id: entry.slice(0, at).trim(),
          key: new Uint8Array(Buffer.from(entry.slice(at + 1).trim(), 'base64url')),
        };
      }),
    );
  }

  static newKey(): string {
    return text(randomBytes(KEY_BYTES));
  }

  seal(secret: string, webhookId: string): string {
    const dataKey = randomBytes(KEY_BYTES);
    const sealed = seal(dataKey, Buffer.from(secret, 'utf8'), webhookId);
    return this.#wrap(this.currentKeyId, dataKey, webhookId, sealed);
  }

  open(stored: string, webhookId: string): string {
    const { kid, dataKey, sealed } = this.#unwrap(stored, webhookId);
    void kid;
    return open(dataKey, sealed.iv, sealed.body, webhookId).toString('utf8');
  }

  /** The same secret under the current key; `undefined` when it is already (nothing to write). */
  rewrap(stored: string, webhookId: string): string | undefined {
    const { kid, dataKey, sealed } = this.#unwrap(stored, webhookId);
    if (kid === this.currentKeyId) return undefined;
    return this.#wrap(this.currentKeyId, dataKey, webhookId, sealed);
  }

  /** Whether `stored` is sealed at all (secrets stored before this existed are plaintext). */
  static isSealed(stored: string): boolean {
    return stored.startsWith('v1.');
  }

  #wrap(kid: string, dataKey: Uint8Array, webhookId: string, sealed: { iv: Buffer; body: Buffer }): string {
    const kek = this.#keys.get(kid) as Uint8Array;
    const wrapped = seal(kek, dataKey, `${kid}:${webhookId}`);
    return ['v1', kid, text(wrapped.iv), text(wrapped.body), text(sealed.iv), text(sealed.body)].join('.');
  }

  #unwrap(stored: string, webhookId: string) {
    const [version, kid = '', wrapIv = '', wrapped = '', iv = '', body = ''] = stored.split('.');
    if (version !== 'v1') throw new Error('webhook secret is not sealed');
    const kek = this.#keys.get(kid);
    if (!kek)
      throw new Error(`webhook secret sealed with key ${kid}, which WEBHOOK_SECRET_KEYS no longer has`);
    const b = (s: string) => Buffer.from(s, 'base64url');
    const dataKey = open(kek, b(wrapIv), b(wrapped), `${kid}:${webhookId}`);
    return { kid, dataKey, sealed: { iv: b(iv), body: b(body) } };
  }
}
