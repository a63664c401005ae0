import type { DueTimer, EventMetadata } from '@conveyor/platform/core';
import type { OrderCommandHandler } from './order-command-handler.ts';
import { orderStreamId } from './order-event-mapping.ts';

/**
 * Fires an order's payment timer: the order decides (ExpirePayment cancels it only while it is
 * unpaid), so a timer fired twice, late or after a payment that raced it changes nothing more.
 * The cancellation is recorded as the system's, caused by the timer.
 */
export function expirePayment(deps: { handle: OrderCommandHandler; now: () => Date }) {
  return async (timer: DueTimer): Promise<void> => {
    const orderId = timer.payload.orderId;
    if (typeof orderId !== 'string') throw new Error(`timer ${timer.key} names no order`);
    const metadata: EventMetadata = { actorId: 'system', causationId: timer.key };
    await deps.handle(orderStreamId(orderId), { type: 'ExpirePayment', at: deps.now() }, { metadata });
  };
}
