import type { EventMetadata } from '@conveyor/platform/core';
import { notFound } from '@conveyor/platform/errors';
import { requireUuid } from '@conveyor/platform/validation';
import type { OrderCommand } from '../domain/order.ts';
import { type Caller, requireOwnerOrAdmin } from './caller.ts';
import type { OrderCommandHandler } from './order-command-handler.ts';
import { orderStreamId } from './order-event-mapping.ts';
import { type OrderView, viewOf } from './order-view.ts';
import { translatingRejections } from './rejections.ts';

/**
 * Runs a command against an existing order for its owner or an admin, on one read of its stream:
 * NOT_FOUND when there is no such order, PERMISSION_DENIED when it is another customer's,
 * FAILED_PRECONDITION when its state forbids the command, ABORTED when concurrent changes kept
 * winning the race. An order never changes owner, so a retry after a lost race decides the same.
 */
export function changeOrder(deps: { handle: OrderCommandHandler }) {
  return async (
    caller: Caller,
    rawOrderId: string,
    command: OrderCommand,
    metadata: EventMetadata = {},
  ): Promise<OrderView> => {
    const orderId = requireUuid(rawOrderId, 'order_id');
    const result = await translatingRejections(() =>
      deps.handle(
        orderStreamId(orderId),
        (state) => {
          if (state.status === 'none') throw notFound(`order ${orderId}`);
          requireOwnerOrAdmin(caller, state.userId, `order ${orderId}`);
          return command;
        },
        { metadata },
      ),
    );
    if (result.kind !== 'applied')
      throw new Error('unexpected duplicate for a command without idempotency key');
    return viewOf(result.state, result.version) as OrderView;
  };
}
