import type { ChangeOrder } from './order-commands.ts';

/** Hands a paid order to a carrier (an admin's command once roles exist). */
export const shipOrder =
  (change: ChangeOrder, now: () => Date) =>
  (orderId: string, input: { carrier: string; trackingNumber: string }) =>
    change(orderId, {
      type: 'ShipOrder',
      carrier: input.carrier,
      trackingNumber: input.trackingNumber,
      at: now(),
    });
