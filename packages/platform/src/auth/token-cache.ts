import { LRUCache } from 'lru-cache';
import type { Principal } from './principal.ts';

/**
 * Verified tokens, kept for at most `ttlMs` and never past their expiry;
 * at most `maxEntries`, the least recently used evicted first. Not shared
 * across processes: each replica asks the users service on its own misses.
 */
export class TokenCache {
  readonly #entries: LRUCache<string, Principal> | undefined;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: { ttlMs: number; maxEntries: number; now?: () => number }) {
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
    // ttlResolution 0: every lookup reads the clock, so an injected clock is seen as it moves.
    this.#entries =
      options.ttlMs === 0 || options.maxEntries === 0
        ? undefined
        : new LRUCache({ max: options.maxEntries, ttlResolution: 0, perf: { now: this.#now } });
  }

  get(token: string): Principal | undefined {
    return this.#entries?.get(token);
  }

  set(token: string, principal: Principal): void {
    const now = this.#now();
    const until = Math.min(now + this.#ttlMs, principal.expiresAt.getTime());
    // lru-cache drops an entry once more than `ttl` ms have passed; it must be gone at `until`.
    const ttl = until - now - 1;
    if (ttl < 1) return;
    this.#entries?.set(token, principal, { ttl });
  }

  get size(): number {
    return this.#entries?.size ?? 0;
  }
}
