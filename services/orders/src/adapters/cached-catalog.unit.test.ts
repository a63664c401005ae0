import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Catalog } from '../app/catalog.ts';
import type { Product } from '../domain/product.ts';
import { CachedCatalog } from './cached-catalog.ts';

const product = (sku: string, amountMinor: number) =>
  ({ sku, name: sku, description: '', price: { amountMinor, currency: 'EUR' } }) as unknown as Product;

/** A catalog that counts lookups and whose prices the test can change. */
function countingCatalog(prices: Map<string, number>) {
  const asked: string[][] = [];
  const catalog: Catalog = {
    list: async () => [],
    find: async () => undefined,
    findMany: async (skus) => {
      asked.push([...skus]);
      return skus.filter((s) => prices.has(s)).map((s) => product(s, prices.get(s)!));
    },
  };
  return { catalog, asked };
}

describe('cached catalog', () => {
  it('answers warm SKUs without asking, asks only for the cold ones, and forgets after the TTL', async () => {
    const prices = new Map([
      ['MUG-001', 1250],
      ['BOOK-EDA', 3900],
    ]);
    const { catalog, asked } = countingCatalog(prices);
    let now = 1_000;
    const cached = new CachedCatalog(catalog, { ttlMs: 5_000, now: () => now });

    assert.deepEqual(
      (await cached.findMany(['MUG-001'])).map((p) => p.sku),
      ['MUG-001'],
    );
    assert.deepEqual((await cached.findMany(['MUG-001', 'BOOK-EDA'])).map((p) => p.sku).sort(), [
      'BOOK-EDA',
      'MUG-001',
    ]);
    assert.deepEqual(asked, [['MUG-001'], ['BOOK-EDA']]);

    prices.set('MUG-001', 1500);
    now += 4_999;
    assert.equal((await cached.findMany(['MUG-001']))[0]?.price.amountMinor, 1250, 'still within the TTL');
    now += 1;
    assert.equal((await cached.findMany(['MUG-001']))[0]?.price.amountMinor, 1500, 'the new price after it');
  });

  it('never caches an unknown SKU, so a product added later is found at once', async () => {
    const prices = new Map<string, number>();
    const { catalog, asked } = countingCatalog(prices);
    const cached = new CachedCatalog(catalog, { ttlMs: 60_000, now: () => 0 });
    assert.deepEqual(await cached.findMany(['NEW-1']), []);
    prices.set('NEW-1', 100);
    assert.equal((await cached.findMany(['NEW-1'])).length, 1);
    assert.equal(asked.length, 2);
  });
});
