import type { Product } from '../domain/product.ts';

/** The server-side catalog; the only source of prices (clients never send them). */
export interface Catalog {
  /** In SKU order, starting after `afterSku`. */
  list(options: { limit: number; afterSku?: string }): Promise<Product[]>;
  find(sku: string): Promise<Product | undefined>;
  /** The products among `skus` that exist (any order). */
  findMany(skus: readonly string[]): Promise<Product[]>;
}
