import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { KV } from '@nats-io/kv';
import { type RateLimiterStoreAbstract as Abstract, RateLimiterRes } from 'rate-limiter-flexible';

// The base class of its stores is declared in its types but not exported by its index: the module
// the library's own stores extend.
const RateLimiterStoreAbstract: typeof Abstract = createRequire(import.meta.url)(
  'rate-limiter-flexible/lib/RateLimiterStoreAbstract.js',
);

/** What one key holds: points consumed in the window, and when the window ends (ms; null: never). */
interface Window {
  points: number;
  expire: number | null;
}

const MAX_TRIES = 8;

/**
 * rate-limiter-flexible's store contract over a NATS JetStream key-value bucket, so every gateway
 * replica counts against the same windows without a database of its own (ADR 0023). A window is one
 * key, updated with compare-and-set on its revision (a lost race reads again, at most 8 times);
 * the bucket's TTL removes windows long over.
 */
export class NatsKvRateLimiter extends RateLimiterStoreAbstract {
  readonly #kv: KV;

  constructor(options: ConstructorParameters<typeof Abstract>[0] & { storeClient: KV }) {
    super(options);
    this.#kv = options.storeClient;
  }

  /** KV keys allow [-/_=.A-Za-z0-9]: the limiter's key is hashed (no address or email is stored). */
  #keyOf(rlKey: string): string {
    return `w.${createHash('sha256').update(rlKey).digest('base64url')}`;
  }

  async _get(rlKey: string): Promise<Window | null> {
    const entry = await this.#kv.get(this.#keyOf(rlKey));
    if (entry?.operation !== 'PUT') return null;
    const window = entry.json<Window>();
    return window.expire !== null && window.expire <= Date.now() ? null : window;
  }

  async _upsert(rlKey: string, points: number, msDuration: number, forceExpire = false): Promise<Window> {
    const key = this.#keyOf(rlKey);
    const fresh = (): Window => ({ points, expire: msDuration > 0 ? Date.now() + msDuration : null });
    if (forceExpire) {
      const window = fresh();
      await this.#kv.put(key, JSON.stringify(window));
      return window;
    }
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      const entry = await this.#kv.get(key);
      const current = entry?.operation === 'PUT' ? entry.json<Window>() : undefined;
      const live = current && (current.expire === null || current.expire > Date.now());
      const next = live ? { points: current.points + points, expire: current.expire } : fresh();
      try {
        if (entry) await this.#kv.update(key, JSON.stringify(next), entry.revision);
        else await this.#kv.create(key, JSON.stringify(next));
        return next;
      } catch (error) {
        // Another replica wrote first (wrong last sequence / key exists): read again.
        if (!/wrong last sequence|exists/i.test((error as Error).message)) throw error;
      }
    }
    throw new Error(`rate limit window ${key} kept changing under ${MAX_TRIES} tries`);
  }

  async _delete(rlKey: string): Promise<boolean> {
    const key = this.#keyOf(rlKey);
    const had = (await this.#kv.get(key))?.operation === 'PUT';
    await this.#kv.delete(key);
    return had;
  }

  _getRateLimiterRes(_rlKey: string, changedPoints: number, window: Window): RateLimiterRes {
    return new RateLimiterRes(
      Math.max(this.points - window.points, 0),
      window.expire === null ? -1 : Math.max(window.expire - Date.now(), 0),
      window.points,
      changedPoints === window.points,
    );
  }
}
