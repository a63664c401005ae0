import type { EventMetadata } from '@conveyor/platform';
import { notFound } from '@conveyor/platform/errors';
import { requireUuid } from '@conveyor/platform/validation';
import type { OrderCommand } from '../domain/order.ts';
import type { OrderCommandHandler } from './order-command-handler.ts';
import { orderStreamId } from './order-event-mapping.ts';
import { type OrderView, viewOf } from './order-view.ts';
import { translatingRejections } from './rejections.ts';

/**
 * Runs a command against an existing order: NOT_FOUND when there is no such
 * order, FAILED_PRECONDITION when its state forbids the command, ABORTED when
 * concurrent changes kept winning the race.
 */
export function changeOrder(deps: { handle: OrderCommandHandler }) {
  return async (
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
