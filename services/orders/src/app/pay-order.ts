import type { Caller } from './caller.ts';
import type { ChangeOrder } from './order-commands.ts';

/** Captures payment of the order's total: its owner's or an admin's command. */
export const payOrder = (change: ChangeOrder, now: () => Date) => (caller: Caller, orderId: string) =>
  change(caller, orderId, { type: 'PayOrder', at: now() });
