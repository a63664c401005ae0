import { type CloudEvent, RetryLater } from '@conveyor/platform';
import { planFor } from '../domain/notification-plan.ts';
import type { Message } from '../domain/templates.ts';
import { webhookBody } from '../domain/webhook-payload.ts';
import type {
  NewNotification,
  NotificationStore,
  NotificationUnit,
  PersonalDataRevealer,
  WebhookTarget,
} from './ports.ts';

export interface HandleEventDeps {
  store: NotificationStore;
  consumer: string;
  newId: () => string;
  now: () => Date;
  /** Called after a handling committed new deliveries (wakes the delivery scheduler). */
  onRecorded?: () => void;
  /** Opens user.created v2's sealed contact details; undefined when not configured. */
  revealer: PersonalDataRevealer | undefined;
}

/** Raised when an order event arrives before its user is known; retried later. */
export class RecipientUnknown extends Error {
  override name = 'RecipientUnknown';
}

/**
 * Records one event, once (inbox), in one transaction: recipients, and one
 * pending notification per (channel, target) — the user's email and each
 * matching webhook — each with its delivery scheduled. Then the message is
 * acknowledged; sending is the delivery scheduler's (deliver-notifications.ts),
 * so no outage of a channel holds the event. A redelivery records nothing.
 */
export function handleEvent(deps: HandleEventDeps) {
  return async (event: CloudEvent): Promise<void> => {
    const data = await revealedData(deps, event);
    // Erased before we heard of it: the key is gone and no one is contacted.
    if (data === 'erased') return;
    const plan = planFor(event.type, data);
    if (plan.kind === 'ignore') return;
    const recorded: string[] = [];
    const first = await deps.store.handleOnce(deps.consumer, event.id, async (unit) => {
      const record = async (
        userId: string,
        email: string | undefined,
        message: Message,
        webhooks?: readonly WebhookTarget[],
      ) => {
        recorded.push(
          ...(await recordNotifications(deps, unit, event, { userId, email, message, webhooks })),
        );
      };
      switch (plan.kind) {
        case 'welcome': {
          // A late redelivery of user.created after user.erased contacts no one.
          if (!(await unit.saveRecipient(plan.recipient))) return;
          await record(plan.recipient.userId, plan.recipient.email, plan.message);
          return;
        }
        case 'forget-user':
          await unit.forgetRecipient(plan.userId);
          // Global webhooks still hear of the erasure (the body carries ids only).
          await record(plan.userId, undefined, { subject: event.type, text: '', html: '' });
          return;
        case 'notify-user': {
          const { recipient: to, webhooks } = await unit.findContacts(plan.userId);
          if (!to) throw new RecipientUnknown(`no contact details for user ${plan.userId} yet`);
          if (to === 'erased') return;
          await record(plan.userId, to.email, plan.render(to), webhooks);
          return;
        }
        default: {
          const unreachable: never = plan;
          throw new Error(`unhandled plan ${JSON.stringify(unreachable)}`);
        }
      }
    });
    if (first && recorded.length > 0) deps.onRecorded?.();
  };
}

/** Records one pending notification per (channel, target), in one statement; returns the ids recorded. */
async function recordNotifications(
  deps: HandleEventDeps,
  unit: NotificationUnit,
  event: CloudEvent,
  to: {
    userId: string;
    email: string | undefined;
    message: Message;
    /** Already read with the recipient; read here when undefined. */
    webhooks: readonly WebhookTarget[] | undefined;
  },
): Promise<string[]> {
  const { userId, email, message } = to;
  const common = { userId, eventId: event.id, eventType: event.type, createdAt: deps.now() };
  const list: NewNotification[] = [];
  if (email !== undefined) {
    list.push({
      ...common,
      id: deps.newId(),
      channel: 'email',
      recipient: email,
      webhookId: undefined,
      message,
    });
  }
  const webhooks = to.webhooks ?? (await unit.findWebhooks(userId));
  const body = webhooks.length > 0 ? webhookBody(event) : '';
  for (const webhook of webhooks) {
    list.push({
      ...common,
      id: deps.newId(),
      channel: 'webhook',
      recipient: webhook.url,
      webhookId: webhook.id,
      message: { subject: event.type, text: body, html: '' },
    });
  }
  return unit.addNotifications(list);
}

/**
 * The event's data with user.created v2's sealed personal data opened, so
 * plans see v1's shape. The plaintext lives only in what handling stores
 * (recipients, mail), which user.erased blanks.
 */
async function revealedData(deps: HandleEventDeps, event: CloudEvent): Promise<unknown> {
  if (event.type !== 'user.created') return event.data;
  const data = event.data as { userId: string; createdAt: string; personalData?: unknown };
  if (typeof data.personalData !== 'string') return event.data;
  if (!deps.revealer) {
    throw new RetryLater(
      'USERS_SERVICE_SECRET is not set: cannot reveal user.created v2 contact details',
      60_000,
    );
  }
  const contact = await deps.revealer.reveal(data.userId, data.personalData);
  if (contact === 'erased') return 'erased';
  return { userId: data.userId, createdAt: data.createdAt, email: contact.email, name: contact.name };
}
