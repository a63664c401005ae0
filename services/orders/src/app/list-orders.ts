import { InvalidArgument, quote } from '@conveyor/platform/errors';
import { decodeKeysetToken, keysetPage, pageSize, requireUuid } from '@conveyor/platform/validation';
import { actingFor, type Caller } from './caller.ts';
import type { OrderReadModels } from './order-read-models.ts';
import type { ExistingStatus, OrderSummaryView } from './order-view.ts';

export interface ListOrdersQuery {
  /** Empty: the caller's own; another user's for admins only. */
  userId: string;
  /** undefined: every status. */
  status: ExistingStatus | undefined;
  /** 0..500; 0 means 50. */
  pageSize: number;
  pageToken: string;
}

const statuses: readonly string[] = ['placed', 'paid', 'shipped', 'delivered', 'cancelled'];

/** A user's orders, newest first, keyset-paginated: a page token is the last row's (placedAt, orderId). */
export function listOrders(deps: { readModels: Pick<OrderReadModels, 'listOrders'> }) {
  return async (
    caller: Caller,
    query: ListOrdersQuery,
  ): Promise<{ items: OrderSummaryView[]; nextPageToken: string }> => {
    const userId = requireUuid(actingFor(caller, query.userId), 'user_id');
    if (query.status !== undefined && !statuses.includes(query.status)) {
      throw new InvalidArgument('status', `${quote(query.status)} is not an order status`);
    }
    const limit = pageSize('page_size', query.pageSize, 500, 50);
    const token = query.pageToken ? decodeKeysetToken(query.pageToken) : undefined;
    const after = token && { placedAt: token.createdAt, orderId: token.id };
    const rows = await deps.readModels.listOrders({ userId, status: query.status, limit: limit + 1, after });
    return keysetPage(rows, limit, (o) => ({ createdAt: o.placedAt, id: o.orderId }));
  };
}
