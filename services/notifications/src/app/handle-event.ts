import type { CloudEvent, Delivery } from '@conveyor/platform';
import { planFor } from '../domain/notification-plan.ts';
import type { Mailer, NotificationStore } from './ports.ts';

export interface HandleEventDeps {
  store: NotificationStore;
  mailer: Mailer;
  consumer: string;
  newId: () => string;
  now: () => Date;
  /** The consumer's max_deliver, to mark a notification failed on the last attempt. */
  maxDeliver: number;
  mailDomain: string;
}

/** Raised when an order event arrives before its user is known; retried later. */
export class RecipientUnknown extends Error {
  override name = 'RecipientUnknown';
}

/**
 * Handles one event in two steps, each safe to repeat:
 * 1. once per event (inbox): record recipients and pending notifications;
 * 2. every time: send what is still pending for this event, then mark it sent.
 * A crash after 1 leaves pending rows the redelivery sends; a crash between
 * the send and the mark resends the same Message-ID, which receivers can
 * recognise. Never a second notification record.
 */
export function handleEvent(deps: HandleEventDeps) {
  return async (event: CloudEvent, delivery: Delivery): Promise<void> => {
    const plan = planFor(event.type, event.data);
    if (plan.kind === 'ignore') return;
    await deps.store.handleOnce(deps.consumer, event.id, async (unit) => {
      const createdAt = deps.now();
      switch (plan.kind) {
        case 'welcome':
          await unit.saveRecipient(plan.recipient);
          await unit.addNotification({
            id: deps.newId(),
            userId: plan.recipient.userId,
            eventId: event.id,
            eventType: event.type,
            channel: 'email',
            recipient: plan.recipient.email,
            message: plan.message,
            createdAt,
          });
          return;
        case 'forget-user':
          await unit.forgetRecipient(plan.userId);
          return;
        case 'notify-user': {
          const to = await unit.findRecipient(plan.userId);
          if (!to) throw new RecipientUnknown(`no contact details for user ${plan.userId} yet`);
          if (to === 'erased') return;
          await unit.addNotification({
            id: deps.newId(),
            userId: plan.userId,
            eventId: event.id,
            eventType: event.type,
            channel: 'email',
            recipient: to.email,
            message: plan.render(to),
            createdAt,
          });
          return;
        }
        default: {
          const unreachable: never = plan;
          throw new Error(`unhandled plan ${JSON.stringify(unreachable)}`);
        }
      }
    });
    await sendPending(deps, event.id, delivery.deliveryCount >= deps.maxDeliver);
  };
}

function sendPending(deps: HandleEventDeps, eventId: string, lastAttempt: boolean): Promise<void> {
  return deps.store.sendPending(
    eventId,
    (n) =>
      deps.mailer.send({
        messageId: `<${n.eventId}.${n.channel}@${deps.mailDomain}>`,
        to: n.recipient,
        ...n.message,
      }),
    { now: deps.now, lastAttempt },
  );
}
