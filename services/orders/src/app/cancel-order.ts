import type { Caller } from './caller.ts';
import type { ChangeOrder } from './order-commands.ts';

/** Cancels an order that has not shipped yet: its owner's or an admin's command. */
export const cancelOrder =
  (change: ChangeOrder, now: () => Date) => (caller: Caller, orderId: string, reason: string) =>
    change(caller, orderId, { type: 'CancelOrder', reason, at: now() });
