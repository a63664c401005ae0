import type { EventStore } from '@conveyor/platform';
import { notFound } from '@conveyor/platform/errors';
import { requireUuid } from '@conveyor/platform/validation';
import { orderCodec } from './order-command-handler.ts';
import { orderStreamId } from './order-event-mapping.ts';

/**
 * The user an order belongs to, read from its first event in the event store
 * (not the lagging read model) so a just-placed order can be authorised at
 * once. An order never changes owner, so checking before a command cannot
 * race with it.
 */
export function orderOwner(deps: { store: EventStore }) {
  return async (rawOrderId: string): Promise<string> => {
    const orderId = requireUuid(rawOrderId, 'order_id');
    const [first] = await deps.store.readStream(orderStreamId(orderId), { fromVersion: 1, toVersion: 1 });
    const event = first && orderCodec.decode(first);
    if (event?.type !== 'OrderPlaced') throw notFound(`order ${orderId}`);
    return event.userId;
  };
}
