import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AppError } from '@conveyor/platform';
import type { Caller } from './caller.ts';
import { getOrder } from './get-order.ts';
import { type ListOrdersQuery, listOrders } from './list-orders.ts';
import type { OrderReadModels } from './order-read-models.ts';
import type { OrderSummaryView } from './order-view.ts';

const userId = '0192f3a1-0000-7000-8000-00000000a001';
const admin: Caller = { subject: '0192f3a1-0000-7000-8000-00000000ad01', role: 'admin', token: 't' };
const customer: Caller = { subject: userId, role: 'customer', token: 't' };
const summary = (i: number): OrderSummaryView => ({
  orderId: `0192f3a1-0000-7000-8000-${String(i).padStart(12, '0')}`,
  userId,
  status: 'placed',
  total: { amountMinor: 100, currency: 'EUR' },
  itemCount: 1,
  version: 1,
  placedAt: new Date(Date.UTC(2025, 0, 1, 0, 0, 100 - i)),
  updatedAt: new Date(Date.UTC(2025, 0, 1)),
});

/** Newest first, honouring limit and `after`, like the Postgres adapter. */
function fakeReadModels(rows: OrderSummaryView[]): OrderReadModels & { queries: unknown[] } {
  const queries: unknown[] = [];
  return {
    queries,
    getOrder: async () => undefined,
    listOrders: async (q) => {
      queries.push(q);
      const after = q.after;
      return rows
        .filter((r) => !after || r.placedAt < after.placedAt)
        .filter((r) => !q.status || r.status === q.status)
        .slice(0, q.limit);
    },
  };
}

const field = (name: string) => (e: AppError) =>
  e.code === 'INVALID_ARGUMENT' && e.message.startsWith(`${name}: `);

describe('listOrders', () => {
  const query = (q: Partial<ListOrdersQuery>): ListOrdersQuery => ({
    userId,
    status: undefined,
    pageSize: 0,
    pageToken: '',
    ...q,
  });

  it('pages with opaque tokens until the last page, whose token is empty', async () => {
    const byAdmin = listOrders({
      readModels: fakeReadModels(Array.from({ length: 5 }, (_, i) => summary(i))),
    });
    const list = (q: ListOrdersQuery) => byAdmin(admin, q);
    const first = await list(query({ pageSize: 2 }));
    const second = await list(query({ pageSize: 2, pageToken: first.nextPageToken }));
    const third = await list(query({ pageSize: 2, pageToken: second.nextPageToken }));
    assert.deepEqual(
      [...first.items, ...second.items, ...third.items].map((o) => o.orderId),
      Array.from({ length: 5 }, (_, i) => summary(i).orderId),
    );
    assert.equal(third.nextPageToken, '');
  });

  it('asks for 50 (and one more, to know whether a next page exists) when page_size is 0', async () => {
    const readModels = fakeReadModels([]);
    await listOrders({ readModels })(customer, query({ userId: '', status: 'paid' }));
    assert.deepEqual(readModels.queries, [{ userId, status: 'paid', limit: 51, after: undefined }]);
  });

  it('rejects bad arguments naming the field', async () => {
    const byCaller = listOrders({ readModels: fakeReadModels([]) });
    const list = (q: ListOrdersQuery) => byCaller(admin, q);
    await assert.rejects(list(query({ userId: 'nope' })), field('user_id'));
    await assert.rejects(list(query({ pageSize: 501 })), field('page_size'));
    await assert.rejects(list(query({ pageSize: -1 })), field('page_size'));
    await assert.rejects(list(query({ pageToken: 'garbage' })), field('page_token'));
    const wrongShape = Buffer.from(JSON.stringify({ a: 1 })).toString('base64url');
    await assert.rejects(list(query({ pageToken: wrongShape })), field('page_token'));
    const badStatus = query({ status: 'lost' as ListOrdersQuery['status'] });
    await assert.rejects(list(badStatus), field('status'));
  });

  it('keeps a customer to their own orders', async () => {
    const list = listOrders({ readModels: fakeReadModels([]) });
    await assert.rejects(list({ ...customer, subject: admin.subject }, query({})), {
      code: 'PERMISSION_DENIED',
      message: 'user_id: customers can only act for themselves',
    });
  });
});

describe('getOrder', () => {
  it('is NOT_FOUND for an unknown order and INVALID_ARGUMENT for a malformed id', async () => {
    const byCaller = getOrder({ readModels: fakeReadModels([]) });
    const get = (orderId: string) => byCaller(admin, orderId);
    await assert.rejects(
      get(userId),
      (e: AppError) => e.code === 'NOT_FOUND' && /order .* not found/.test(e.message),
    );
    await assert.rejects(get('x'), field('order_id'));
    await assert.rejects(get(''), field('order_id'));
  });
});
