import { notFound } from '@conveyor/platform/errors';
import { requireUuid } from '@conveyor/platform/validation';
import type { OrderView } from './order-view.ts';
import type { OrderReadModels } from './read-models.ts';

/**
 * An order as the read model shows it. The read model trails the event store
 * by the projection's lag, so an order placed a moment ago can still be
 * NOT_FOUND here; GetOrderAt/GetOrderHistory read the store itself.
 */
export function getOrder(deps: { readModels: Pick<OrderReadModels, 'getOrder'> }) {
  return async (rawOrderId: string): Promise<OrderView> => {
    const orderId = requireUuid(rawOrderId, 'order_id');
    const order = await deps.readModels.getOrder(orderId);
    if (!order) throw notFound(`order ${orderId}`);
    return order;
  };
}
