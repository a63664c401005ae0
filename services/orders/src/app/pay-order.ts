import type { ChangeOrder } from './order-commands.ts';

/** Captures payment of the order's total. */
export const payOrder = (change: ChangeOrder, now: () => Date) => (orderId: string) =>
  change(orderId, { type: 'PayOrder', at: now() });
