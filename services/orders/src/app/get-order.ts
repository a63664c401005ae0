import { notFound } from '@conveyor/platform/errors';
import { requireUuid } from '@conveyor/platform/validation';
import { type Caller, requireOwnerOrAdmin } from './caller.ts';
import type { OrderReadModels } from './order-read-models.ts';
import type { OrderView } from './order-view.ts';

/**
 * An order as the read model shows it. The read model trails the event store
 * by the projection's lag, so an order placed a moment ago can still be
 * NOT_FOUND here; GetOrderAt/GetOrderHistory read the store itself. Its owner's or an admin's.
 */
export function getOrder(deps: { readModels: Pick<OrderReadModels, 'getOrder'> }) {
  return async (caller: Caller, rawOrderId: string): Promise<OrderView> => {
    const orderId = requireUuid(rawOrderId, 'order_id');
    const order = await deps.readModels.getOrder(orderId);
    if (!order) throw notFound(`order ${orderId}`);
    requireOwnerOrAdmin(caller, order.userId, `order ${orderId}`);
    return order;
  };
}
