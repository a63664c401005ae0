import { ordersV1 } from '@conveyor/contracts';
import { InvalidArgument } from '@conveyor/platform/errors';
import type { ExistingStatus, OrderSummaryView, OrderView } from '../app/order-view.ts';
import type { Product } from '../domain/product.ts';

const S = ordersV1.OrderStatus;

export const statusToProto: Record<ExistingStatus, ordersV1.OrderStatus> = {
  placed: S.ORDER_STATUS_PLACED,
  paid: S.ORDER_STATUS_PAID,
  shipped: S.ORDER_STATUS_SHIPPED,
  delivered: S.ORDER_STATUS_DELIVERED,
  cancelled: S.ORDER_STATUS_CANCELLED,
};

/** Unspecified → undefined (all statuses); an unknown number is a bad argument. */
export function statusFromProto(status: ordersV1.OrderStatus): ExistingStatus | undefined {
  if (status === S.ORDER_STATUS_UNSPECIFIED) return undefined;
  const found = (Object.entries(statusToProto) as [ExistingStatus, number][]).find(([, v]) => v === status);
  if (!found) throw new InvalidArgument('status', `${status} is not an order status`);
  return found[0];
}

export const productToProto = (p: Product): ordersV1.Product => ({
  sku: p.sku,
  name: p.name,
  description: p.description,
  price: { amountMinor: p.price.amountMinor, currency: p.price.currency },
});

export const orderToProto = (o: OrderView): ordersV1.Order => ({
  id: o.orderId,
  userId: o.userId,
  status: statusToProto[o.status],
  items: o.items.map((i) => ({ sku: i.sku, quantity: i.quantity, unitPrice: i.unitPrice })),
  total: o.total,
  version: o.version,
  placedAt: o.placedAt,
  paidAt: o.paidAt,
  shippedAt: o.shippedAt,
  deliveredAt: o.deliveredAt,
  cancelledAt: o.cancelledAt,
  carrier: o.carrier ?? '',
  trackingNumber: o.trackingNumber ?? '',
  cancelReason: o.cancelReason ?? '',
});

export const summaryToProto = (o: OrderSummaryView): ordersV1.OrderSummary => ({
  id: o.orderId,
  userId: o.userId,
  status: statusToProto[o.status],
  total: o.total,
  itemCount: o.itemCount,
  version: o.version,
  placedAt: o.placedAt,
  updatedAt: o.updatedAt,
});
