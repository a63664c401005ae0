import { ordersV1 } from '@conveyor/contracts/grpc';
import type { Outcome } from './cli-error.ts';
import { formatOrder } from './order-format.ts';

/** An order as the commands print it: `heading` and the order, or its JSON. */
export function orderOutcome(order: ordersV1.Order | undefined, json: boolean, heading: string): Outcome {
  if (!order) return { text: json ? 'null' : 'the service returned no order' };
  if (json) return { text: JSON.stringify(ordersV1.Order.toJSON(order), null, 2) };
  return { text: `${heading ? `${heading}\n` : ''}${formatOrder(order)}` };
}
