import type { ChangeOrder } from './order-commands.ts';

/** Records that a shipped order reached its customer. */
export const deliverOrder = (change: ChangeOrder, now: () => Date) => (orderId: string) =>
  change(orderId, { type: 'DeliverOrder', at: now() });
