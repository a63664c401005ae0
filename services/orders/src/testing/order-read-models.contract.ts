import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { v7 as uuidv7 } from 'uuid';
import type { Caller } from '../app/caller.ts';
import { getOrder } from '../app/get-order.ts';
import { listOrders } from '../app/list-orders.ts';
import type { OrderProjectionTable } from '../app/order-projection-table.ts';
import type { OrderReadModels } from '../app/order-read-models.ts';
import type { ExistingStatus, OrderView } from '../app/order-view.ts';

const admin: Caller = { subject: uuidv7(), role: 'admin', token: 'unused' };

/**
 * What every order read model must do, through the use cases that read it: rows only move to a
 * higher version, lists are newest first through ties. Run against each implementation (Postgres,
 * in memory) so the component tests' stand-in behaves as the real table does.
 */
export function orderReadModelsContract(
  name: string,
  setup: () => Promise<{ readModels: OrderReadModels & OrderProjectionTable; teardown: () => Promise<void> }>,
): void {
  describe(`order read models contract: ${name}`, () => {
    let readModels: OrderReadModels & OrderProjectionTable;
    let teardown: () => Promise<void>;

    before(async () => {
      ({ readModels, teardown } = await setup());
    });

    after(() => teardown?.());

    const view = (o: Partial<OrderView> & { userId: string; placedAt: Date }): OrderView => ({
      orderId: uuidv7(),
      status: 'placed',
      items: [{ sku: 'MUG-001', quantity: 3, unitPrice: { amountMinor: 1250, currency: 'EUR' } }],
      total: { amountMinor: 3750, currency: 'EUR' },
      version: 1,
      paidAt: undefined,
      shippedAt: undefined,
      deliveredAt: undefined,
      cancelledAt: undefined,
      carrier: undefined,
      trackingNumber: undefined,
      cancelReason: undefined,
      ...o,
    });

    it('never lets an older or equal version replace a row', async () => {
      const placed = view({ userId: uuidv7(), placedAt: new Date('2025-02-01T00:00:00Z') });
      const paidAt = new Date('2025-02-01T00:01:00Z');
      const paid: OrderView = { ...placed, status: 'paid', paidAt, version: 2 };
      await readModels.upsertIfNewer([{ view: paid, updatedAt: paidAt }]);
      await readModels.upsertIfNewer([{ view: placed, updatedAt: placed.placedAt }]);
      await readModels.upsertIfNewer([{ view: { ...paid, carrier: 'changed' }, updatedAt: paidAt }]);
      assert.deepEqual(await getOrder({ readModels })(admin, placed.orderId.toUpperCase()), paid);
    });

    it('lists one user’s orders newest first, by status, through ties in placed_at', async () => {
      const userId = uuidv7();
      const sameInstant = new Date('2025-03-01T12:00:00Z');
      const statuses: ExistingStatus[] = [
        'placed',
        'paid',
        'placed',
        'cancelled',
        'placed',
        'paid',
        'placed',
      ];
      const views = statuses.map((status, i) =>
        view({ userId, status, placedAt: i < 4 ? sameInstant : new Date(sameInstant.getTime() + i * 1000) }),
      );
      const others = view({ userId: uuidv7(), placedAt: sameInstant });
      await readModels.upsertIfNewer([...views, others].map((v) => ({ view: v, updatedAt: v.placedAt })));

      const list = listOrders({ readModels });
      const all = async (status: ExistingStatus | undefined) => {
        const ids: string[] = [];
        let pageToken = '';
        do {
          const page = await list(admin, { userId, status, pageSize: 2, pageToken });
          ids.push(...page.items.map((o) => o.orderId));
          pageToken = page.nextPageToken;
        } while (pageToken);
        return ids;
      };
      const newestFirst = [...views].sort(
        (a, b) => b.placedAt.getTime() - a.placedAt.getTime() || (b.orderId > a.orderId ? 1 : -1),
      );
      assert.deepEqual(
        await all(undefined),
        newestFirst.map((v) => v.orderId),
      );
      assert.deepEqual(
        await all('placed'),
        newestFirst.filter((v) => v.status === 'placed').map((v) => v.orderId),
      );
      const [first] = (await list(admin, { userId, status: 'cancelled', pageSize: 0, pageToken: '' })).items;
      assert.equal(first?.itemCount, 3);
      assert.deepEqual(first?.total, { amountMinor: 3750, currency: 'EUR' });
      assert.deepEqual(first?.updatedAt, sameInstant);
    });
  });
}
