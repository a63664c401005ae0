import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Catalog } from '../app/catalog.ts';

/**
 * What every catalog must answer over the demo catalog (migration 0001): listing in SKU order from
 * after a SKU, lookups by exact SKU, and only the existing products of a set. Run against each
 * implementation (Postgres, in memory) so the component tests price orders as production does.
 */
export function catalogContract(
  name: string,
  setup: () => Promise<{ catalog: Catalog; teardown: () => Promise<void> }>,
): void {
  describe(`catalog contract: ${name}`, () => {
    let catalog: Catalog;
    let teardown: () => Promise<void>;

    before(async () => {
      ({ catalog, teardown } = await setup());
    });

    after(() => teardown?.());

    it('lists the demo catalog in SKU order, a page at a time from after a SKU', async () => {
      const all = await catalog.list({ limit: 100 });
      assert.deepEqual(
        all.map((p) => p.sku),
        ['BOOK-EDA', 'HOODIE-GRY-M', 'MUG-001', 'STICKER-PACK', 'TEE-BLK-L', 'TEE-BLK-M'],
      );
      const page = await catalog.list({ limit: 2, afterSku: 'HOODIE-GRY-M' });
      assert.deepEqual(
        page.map((p) => p.sku),
        ['MUG-001', 'STICKER-PACK'],
      );
      assert.deepEqual(await catalog.list({ limit: 5, afterSku: 'TEE-BLK-M' }), []);
    });

    it('finds a product by its exact SKU, with its price in minor units', async () => {
      const mug = await catalog.find('MUG-001');
      assert.equal(mug?.name, 'Conveyor mug');
      assert.equal(mug?.description, 'Stoneware, 350 ml, dishwasher safe.');
      assert.deepEqual(mug?.price, { amountMinor: 1250, currency: 'EUR' });
      assert.equal(await catalog.find('NOPE'), undefined);
    });

    it('returns only the existing products of a set, each once', async () => {
      const found = await catalog.findMany(['STICKER-PACK', 'NOPE', 'MUG-001']);
      assert.deepEqual(found.map((p) => [p.sku, p.price.amountMinor]).sort(), [
        ['MUG-001', 1250],
        ['STICKER-PACK', 500],
      ]);
      assert.deepEqual(await catalog.findMany([]), []);
    });
  });
}
