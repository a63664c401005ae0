import type { OrderSummaryView, OrderView } from './order-view.ts';

/**
 * The query side: rows kept by the projections, never the event store.
 * Implemented by adapters/postgres-read-models.ts.
 */
export interface OrderReadModels {
  getOrder(orderId: string): Promise<OrderView | undefined>;
  /** Newest first (placedAt desc, orderId desc), keyset-paginated. */
  listOrders(query: {
    userId: string;
    status: OrderView['status'] | undefined;
    limit: number;
    after: { placedAt: Date; orderId: string } | undefined;
  }): Promise<OrderSummaryView[]>;
}
