import type { EventData, EventType } from '@conveyor/contracts';
import {
  type Message,
  orderCancelled,
  orderConfirmation,
  orderDelivered,
  orderPaid,
  orderShipped,
  passwordReset,
  signupAttempted,
  welcome,
} from './templates.ts';

export interface Recipient {
  userId: string;
  email: string;
  name: string;
}

/**
 * What an event means for notifications, decided without I/O:
 * remember a recipient, forget one, send a message to the event's user, or nothing.
 */
export type Plan =
  | { kind: 'welcome'; recipient: Recipient; message: Message }
  | { kind: 'notify-user'; userId: string; render: (to: Recipient) => Message }
  | { kind: 'forget-user'; userId: string }
  | { kind: 'ignore' };

export function planFor(type: string, data: unknown): Plan {
  switch (type as EventType) {
    case 'user.created': {
      // v1 data, or v2 with its sealed personal data already revealed (handleEvent does that).
      const d = data as { userId: string; email: string; name: string };
      if (typeof d.email !== 'string') throw new Error('user.created without revealed contact details');
      return {
        kind: 'welcome',
        recipient: { userId: d.userId, email: d.email, name: d.name },
        message: welcome(d),
      };
    }
    case 'user.erased':
      return { kind: 'forget-user', userId: (data as EventData<'user.erased'>).userId };
    case 'user.password_reset_requested': {
      // Its sealed code revealed already (handleEvent does that), like user.created v2.
      const d = data as { userId: string; resetToken?: unknown; expiresAt: string };
      if (typeof d.resetToken !== 'string')
        throw new Error('user.password_reset_requested without its revealed code');
      const reset = { resetToken: d.resetToken, expiresAt: d.expiresAt };
      return { kind: 'notify-user', userId: d.userId, render: (to) => passwordReset(reset, to) };
    }
    case 'user.signup_attempted': {
      const d = data as EventData<'user.signup_attempted'>;
      return { kind: 'notify-user', userId: d.userId, render: (to) => signupAttempted(d, to) };
    }
    case 'order.created': {
      const d = data as EventData<'order.created'>;
      return { kind: 'notify-user', userId: d.userId, render: (to) => orderConfirmation(d, to) };
    }
    case 'order.paid': {
      const d = data as EventData<'order.paid'>;
      return { kind: 'notify-user', userId: d.userId, render: (to) => orderPaid(d, to) };
    }
    case 'order.shipped': {
      const d = data as EventData<'order.shipped'>;
      return { kind: 'notify-user', userId: d.userId, render: (to) => orderShipped(d, to) };
    }
    case 'order.delivered': {
      const d = data as EventData<'order.delivered'>;
      return { kind: 'notify-user', userId: d.userId, render: (to) => orderDelivered(d, to) };
    }
    case 'order.cancelled': {
      const d = data as EventData<'order.cancelled'>;
      return { kind: 'notify-user', userId: d.userId, render: (to) => orderCancelled(d, to) };
    }
    default:
      return { kind: 'ignore' };
  }
}
