import { LRUCache } from 'lru-cache';
import type { Catalog } from '../app/catalog.ts';
import type { Product } from '../domain/product.ts';

/**
 * Remembers the products PlaceOrder prices for `ttlMs`, so placing an order
 * costs no catalog query while its products are warm (one query fewer per
 * order; profiled in docs/performance.md). The catalog changes only through
 * migrations today; a price change reaches orders within `ttlMs` on every
 * replica. Unknown SKUs are never cached, so new products show up at once.
 * Listing and single lookups go straight through. At most `maxEntries`
 * products are kept, the least recently used evicted first.
 */
export class CachedCatalog implements Catalog {
  readonly #inner: Catalog;
  readonly #products: LRUCache<string, Product>;

  constructor(inner: Catalog, options: { ttlMs: number; maxEntries?: number; now?: () => number }) {
    this.#inner = inner;
    this.#products = new LRUCache({
      max: options.maxEntries ?? 10_000,
      // lru-cache drops an entry once more than `ttl` ms have passed; it must be gone at ttlMs.
      ttl: Math.max(1, options.ttlMs - 1),
      // Every lookup reads the clock, so an injected clock is seen as it moves.
      ttlResolution: 0,
      perf: { now: options.now ?? Date.now },
    });
  }

  list(options: { limit: number; afterSku?: string }): Promise<Product[]> {
    return this.#inner.list(options);
  }

  find(sku: string): Promise<Product | undefined> {
    return this.#inner.find(sku);
  }

  async findMany(skus: readonly string[]): Promise<Product[]> {
    const warm: Product[] = [];
    const cold: string[] = [];
    for (const sku of skus) {
      const hit = this.#products.get(sku);
      if (hit) warm.push(hit);
      else cold.push(sku);
    }
    if (cold.length === 0) return warm;
    const fetched = await this.#inner.findMany(cold);
    for (const product of fetched) this.#products.set(product.sku, product);
    return [...warm, ...fetched];
  }
}
