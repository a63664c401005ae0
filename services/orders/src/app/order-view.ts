import type { LineItem, OrderState } from '../domain/order.ts';
import type { Money } from '../domain/product.ts';

export type ExistingStatus = Exclude<OrderState['status'], 'none'>;

/** An order as reads show it: the read model's row, and each step of its history. */
export interface OrderView {
  orderId: string;
  userId: string;
  status: ExistingStatus;
  items: LineItem[];
  total: Money;
  /** Events applied: the order's stream version. */
  version: number;
  placedAt: Date;
  paidAt: Date | undefined;
  shippedAt: Date | undefined;
  deliveredAt: Date | undefined;
  cancelledAt: Date | undefined;
  carrier: string | undefined;
  trackingNumber: string | undefined;
  cancelReason: string | undefined;
}

/** A line of a user's order list. */
export interface OrderSummaryView {
  orderId: string;
  userId: string;
  status: ExistingStatus;
  total: Money;
  itemCount: number;
  version: number;
  placedAt: Date;
  updatedAt: Date;
}

/** The view of a folded state; undefined while the order does not exist. */
export function viewOf(state: OrderState, version: number): OrderView | undefined {
  if (state.status === 'none') return undefined;
  return {
    orderId: state.orderId,
    userId: state.userId,
    status: state.status,
    items: state.items,
    total: state.total,
    version,
    placedAt: state.placedAt,
    paidAt: 'paidAt' in state ? state.paidAt : undefined,
    shippedAt: 'shippedAt' in state ? state.shippedAt : undefined,
    deliveredAt: 'deliveredAt' in state ? state.deliveredAt : undefined,
    cancelledAt: 'cancelledAt' in state ? state.cancelledAt : undefined,
    carrier: 'carrier' in state ? state.carrier : undefined,
    trackingNumber: 'trackingNumber' in state ? state.trackingNumber : undefined,
    cancelReason: state.status === 'cancelled' ? state.reason : undefined,
  };
}
