import { InvalidArgument } from '@conveyor/platform/errors';
import type { ExistingStatus, OrderSummaryView } from './order-view.ts';
import type { OrderReadModels } from './read-models.ts';
import { requireUuid } from './rejections.ts';

export interface ListOrdersQuery {
  userId: string;
  /** undefined: every status. */
  status: ExistingStatus | undefined;
  /** 0..500; 0 means 50. */
  pageSize: number;
  pageToken: string;
}

const statuses: readonly string[] = ['placed', 'paid', 'shipped', 'delivered', 'cancelled'];
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A user's orders, newest first, keyset-paginated: a page token is the last row's (placedAt, orderId). */
export function listOrders(deps: { readModels: Pick<OrderReadModels, 'listOrders'> }) {
  return async (query: ListOrdersQuery): Promise<{ items: OrderSummaryView[]; nextPageToken: string }> => {
    const userId = requireUuid(query.userId, 'user_id');
    if (query.status !== undefined && !statuses.includes(query.status)) {
      throw new InvalidArgument('status', `"${query.status}" is not an order status`);
    }
    if (!Number.isInteger(query.pageSize) || query.pageSize < 0 || query.pageSize > 500) {
      throw new InvalidArgument('page_size', 'must be between 0 and 500');
    }
    const limit = query.pageSize || 50;
    const after = query.pageToken ? decodePageToken(query.pageToken) : undefined;
    const rows = await deps.readModels.listOrders({ userId, status: query.status, limit: limit + 1, after });
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, nextPageToken: rows.length > limit && last ? encodePageToken(last) : '' };
  };
}

function encodePageToken(o: OrderSummaryView): string {
  return Buffer.from(JSON.stringify([o.placedAt.toISOString(), o.orderId])).toString('base64url');
}

function decodePageToken(token: string): { placedAt: Date; orderId: string } {
  try {
    const [placedAt, orderId] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown[];
    const date = new Date(placedAt as string);
    if (typeof placedAt !== 'string' || Number.isNaN(date.getTime())) throw new Error('bad time');
    if (typeof orderId !== 'string' || !uuidPattern.test(orderId)) throw new Error('bad id');
    return { placedAt: date, orderId: orderId.toLowerCase() };
  } catch {
    throw new InvalidArgument('page_token', 'is not a token from a previous response');
  }
}
