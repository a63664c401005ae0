import type { ChangeOrder } from './order-commands.ts';

/** Cancels an order that has not shipped yet. */
export const cancelOrder = (change: ChangeOrder, now: () => Date) => (orderId: string, reason: string) =>
  change(orderId, { type: 'CancelOrder', reason, at: now() });
