/** An Argon2id hash with the parameters that made it, so they can change later. */
export interface Argon2idHash {
  /** Memory cost in KiB (m). */
  memoryKiB: number;
  /** Passes over memory (t). */
  passes: number;
  /** Lanes (p). */
  parallelism: number;
  salt: Uint8Array;
  hash: Uint8Array;
}

const ARGON2_VERSION = 19;

// PHC string format: standard base64 without padding.
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64').replace(/=+$/, '');
const unb64 = (text: string) => {
  if (!/^[A-Za-z0-9+/]+$/.test(text)) throw new Error('bad base64');
  return new Uint8Array(Buffer.from(text, 'base64'));
};

/** `$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>` */
export function encodePhc(h: Argon2idHash): string {
  return `$argon2id$v=${ARGON2_VERSION}$m=${h.memoryKiB},t=${h.passes},p=${h.parallelism}$${b64(h.salt)}$${b64(h.hash)}`;
}

/** Parses what encodePhc wrote; throws (without echoing the input) on anything else. */
export function parsePhc(phc: string): Argon2idHash {
  const match = /^\$argon2id\$v=(\d+)\$m=(\d{1,8}),t=(\d{1,4}),p=(\d{1,3})\$([^$]+)\$([^$]+)$/.exec(phc);
  if (!match || Number(match[1]) !== ARGON2_VERSION) throw new Error('not an Argon2id v19 PHC string');
  const [memoryKiB, passes, parallelism] = [Number(match[2]), Number(match[3]), Number(match[4])];
  if (passes < 1 || parallelism < 1 || memoryKiB < 8 * parallelism) {
    throw new Error('Argon2id parameters out of range');
  }
  const salt = unb64(match[5]!);
  const hash = unb64(match[6]!);
  if (salt.length < 8 || hash.length < 16) throw new Error('Argon2id salt or hash too short');
  return { memoryKiB, passes, parallelism, salt, hash };
}
