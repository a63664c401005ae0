import { type Caller, requireRole } from './caller.ts';
import type { ChangeOrder } from './order-commands.ts';

/** Hands a paid order to a carrier: an admin's command. */
export const shipOrder =
  (change: ChangeOrder, now: () => Date) =>
  async (caller: Caller, orderId: string, input: { carrier: string; trackingNumber: string }) => {
    requireRole(caller, ['admin']);
    return change(caller, orderId, {
      type: 'ShipOrder',
      carrier: input.carrier,
      trackingNumber: input.trackingNumber,
      at: now(),
    });
  };
