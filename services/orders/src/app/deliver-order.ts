import { type Caller, requireRole } from './caller.ts';
import type { ChangeOrder } from './order-commands.ts';

/** Records that a shipped order reached its customer: an admin's command. */
export const deliverOrder =
  (change: ChangeOrder, now: () => Date) => async (caller: Caller, orderId: string) => {
    requireRole(caller, ['admin']);
    return change(caller, orderId, { type: 'DeliverOrder', at: now() });
  };
