import type { OrderCommand } from '../domain/order.ts';
import type { Caller } from './caller.ts';
import type { OrderView } from './order-view.ts';

/** changeOrder bound to its dependencies (see change-order.ts). */
export type ChangeOrder = (caller: Caller, orderId: string, command: OrderCommand) => Promise<OrderView>;
