import type { Pool } from '@conveyor/platform';
import type { Catalog } from '../app/catalog.ts';
import type { Product } from '../domain/product.ts';

interface ProductRow {
  sku: string;
  name: string;
  description: string;
  price_minor: string;
  currency: string;
}

const fromRow = (r: ProductRow): Product => ({
  sku: r.sku,
  name: r.name,
  description: r.description,
  price: { amountMinor: Number(r.price_minor), currency: r.currency },
});

export class PostgresCatalog implements Catalog {
  readonly #pool: Pool;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  async list(options: { limit: number; afterSku?: string }): Promise<Product[]> {
    const { rows } = await this.#pool.query<ProductRow>(
      `select sku, name, description, price_minor, currency from products
       where $1::text is null or sku > $1 order by sku limit $2`,
      [options.afterSku ?? null, options.limit],
    );
    return rows.map(fromRow);
  }

  async findMany(skus: readonly string[]): Promise<Product[]> {
    const { rows } = await this.#pool.query<ProductRow>(
      'select sku, name, description, price_minor, currency from products where sku = any($1::text[])',
      [skus],
    );
    return rows.map(fromRow);
  }

  async find(sku: string): Promise<Product | undefined> {
    const { rows } = await this.#pool.query<ProductRow>(
      'select sku, name, description, price_minor, currency from products where sku = $1',
      [sku],
    );
    return rows[0] && fromRow(rows[0]);
  }
}
