import type { Principal } from './principal.ts';

/**
 * Verified tokens, kept for at most `ttlMs` and never past their expiry;
 * at most `maxEntries`, the oldest insertions evicted first. Not shared
 * across processes: each replica asks the users service on its own misses.
 */
export class TokenCache {
  readonly #entries = new Map<string, { principal: Principal; until: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: { ttlMs: number; maxEntries: number; now?: () => number }) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
    this.#now = options.now ?? Date.now;
  }

  get(token: string): Principal | undefined {
    const entry = this.#entries.get(token);
    if (!entry) return undefined;
    if (entry.until <= this.#now()) {
      this.#entries.delete(token);
      return undefined;
    }
    return entry.principal;
  }

  set(token: string, principal: Principal): void {
    if (this.#ttlMs === 0 || this.#maxEntries === 0) return;
    const until = Math.min(this.#now() + this.#ttlMs, principal.expiresAt.getTime());
    if (until <= this.#now()) return;
    this.#entries.delete(token);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    this.#entries.set(token, { principal, until });
  }

  get size(): number {
    return this.#entries.size;
  }
}
