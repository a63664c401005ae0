import { argon2, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from '@conveyor/platform/errors';
import type { PasswordHasher } from '../app/password-hasher.ts';
import { encodePhc, parsePhc } from '../domain/phc-string.ts';

export interface Argon2Parameters {
  memoryKiB: number;
  passes: number;
  parallelism: number;
}

const SALT_BYTES = 16;
const HASH_BYTES = 32;

const derive = (password: string, salt: Uint8Array, p: Argon2Parameters, length: number) =>
  new Promise<Buffer>((resolve, reject) =>
    argon2(
      'argon2id',
      {
        message: password,
        nonce: salt,
        memory: p.memoryKiB,
        passes: p.passes,
        parallelism: p.parallelism,
        tagLength: length,
      },
      (error, key) => (error ? reject(error) : resolve(key)),
    ),
  );

/**
 * Argon2id from node:crypto, run on libuv's thread pool so the event loop
 * stays free. At most `maxConcurrent` hashes run at once (each takes
 * `memoryKiB` of memory) and at most `maxQueued` wait; beyond that callers get
 * UNAVAILABLE rather than an unbounded queue.
 */
export class Argon2PasswordHasher implements PasswordHasher {
  readonly #params: Argon2Parameters;
  readonly #maxConcurrent: number;
  readonly #maxQueued: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(params: Argon2Parameters, limits: { maxConcurrent: number; maxQueued: number }) {
    this.#params = params;
    this.#maxConcurrent = limits.maxConcurrent;
    this.#maxQueued = limits.maxQueued;
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    const hash = await this.#limited(() => derive(password, salt, this.#params, HASH_BYTES));
    return encodePhc({ ...this.#params, salt, hash });
  }

  /** Verifies with the parameters stored in the hash, not the current ones. */
  async verify(phc: string, password: string): Promise<boolean> {
    const stored = parsePhc(phc);
    const candidate = await this.#limited(() => derive(password, stored.salt, stored, stored.hash.length));
    return candidate.length === stored.hash.length && timingSafeEqual(candidate, stored.hash);
  }

  async #limited<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#maxConcurrent) {
      if (this.#waiting.length >= this.#maxQueued) {
        throw new AppError('UNAVAILABLE', 'users: too many password checks in progress; retry shortly');
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    this.#running++;
    try {
      return await work();
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
  }
}
