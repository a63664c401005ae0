import type { Catalog } from '../app/catalog.ts';
import type { Product } from '../domain/product.ts';

/**
 * Remembers the products PlaceOrder prices for `ttlMs`, so placing an order
 * costs no catalog query while its products are warm (one query fewer per
 * order; profiled in docs/performance.md). The catalog changes only through
 * migrations today; a price change reaches orders within `ttlMs` on every
 * replica. Unknown SKUs are never cached, so new products show up at once.
 * Listing and single lookups go straight through.
 */
export class CachedCatalog implements Catalog {
  readonly #inner: Catalog;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #products = new Map<string, { product: Product; until: number }>();

  constructor(inner: Catalog, options: { ttlMs: number; now?: () => number }) {
    this.#inner = inner;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
  }

  list(options: { limit: number; afterSku?: string }): Promise<Product[]> {
    return this.#inner.list(options);
  }

  find(sku: string): Promise<Product | undefined> {
    return this.#inner.find(sku);
  }

  async findMany(skus: readonly string[]): Promise<Product[]> {
    const now = this.#now();
    const warm: Product[] = [];
    const cold: string[] = [];
    for (const sku of skus) {
      const hit = this.#products.get(sku);
      if (hit && hit.until > now) warm.push(hit.product);
      else cold.push(sku);
    }
    if (cold.length === 0) return warm;
    const fetched = await this.#inner.findMany(cold);
    const until = now + this.#ttlMs;
    for (const product of fetched) this.#products.set(product.sku, { product, until });
    return [...warm, ...fetched];
  }
}
