import { ordersV1 } from '@conveyor/contracts/grpc';
import type { OrderStatusName } from './order-values.ts';

const byName: Record<OrderStatusName, ordersV1.OrderStatus> = {
  placed: ordersV1.OrderStatus.ORDER_STATUS_PLACED,
  paid: ordersV1.OrderStatus.ORDER_STATUS_PAID,
  shipped: ordersV1.OrderStatus.ORDER_STATUS_SHIPPED,
  delivered: ordersV1.OrderStatus.ORDER_STATUS_DELIVERED,
  cancelled: ordersV1.OrderStatus.ORDER_STATUS_CANCELLED,
};

/** placed → ORDER_STATUS_PLACED; no name → ORDER_STATUS_UNSPECIFIED (every status). */
export function orderStatusValue(name: OrderStatusName | undefined): ordersV1.OrderStatus {
  return name === undefined ? ordersV1.OrderStatus.ORDER_STATUS_UNSPECIFIED : byName[name];
}

/** ORDER_STATUS_PAID → paid */
export function orderStatusLabel(value: ordersV1.OrderStatus): string {
  return ordersV1
    .orderStatusToJSON(value)
    .replace(/^ORDER_STATUS_/, '')
    .toLowerCase();
}
