import {
  type CloudEvent,
  type HandlingOutcome,
  outcomeOfError,
  PoisonMessageError,
  type ReceivedEvent,
  RetryLater,
} from '@conveyor/platform/core';
import { type Plan, planFor } from '../domain/notification-plan.ts';
import type { Message } from '../domain/templates.ts';
import { webhookBody } from '../domain/webhook-payload.ts';
import type { ClaimedDelivery, DeliveryHandOff, HandOff } from './delivery-queue.ts';
import {
  type NewNotification,
  type NotificationStore,
  type NotificationUnit,
  pendingNotification,
  type WebhookTarget,
} from './notification-store.ts';
import type { PersonalDataRevealer } from './personal-data-revealer.ts';

export interface RecordEventsDeps {
  store: NotificationStore;
  consumer: string;
  newId: () => string;
  now: () => Date;
  /** The delivery scheduler: takes over what was recorded (ADR 0018). */
  delivery?: DeliveryHandOff;
  /** Opens user.created v2's sealed contact details; undefined when not configured. */
  revealer: PersonalDataRevealer | undefined;
}

type Planned = { event: CloudEvent; plan: Exclude<Plan, { kind: 'ignore' }> };

/**
 * Records a batch of events, each once (inbox), in one transaction: recipients, and one pending
 * notification per (channel, target) — the user's email and each matching webhook — each with its
 * delivery scheduled. Then the messages are acknowledged; sending is the delivery scheduler's
 * (deliver-notifications.ts), so no outage of a channel holds an event (ADR 0018).
 *
 * Events are applied in stream order. Consecutive order events form a run recorded with one
 * contacts read, one inbox insert and one insert of every notification; a sign-up or an erasure
 * is applied on its own between runs, so a run after it sees it. An order event whose user is not
 * known yet is retried later (not recorded), without failing its batch-mates. Sealed contact
 * details are revealed before the transaction opens: nothing is held across that call.
 */
export function recordEvents(deps: RecordEventsDeps) {
  return async (batch: readonly ReceivedEvent[]): Promise<HandlingOutcome[]> => {
    const outcomes: HandlingOutcome[] = batch.map(() => ({ kind: 'ack' }));
    const planned: (Planned & { i: number })[] = [];
    await Promise.all(
      batch.map(async ({ event }, i) => {
        try {
          const data = await revealedData(deps, event);
          // Erased before we heard of it: the key is gone and no one is contacted.
          if (data === 'erased') return;
          const plan = planFor(event.type, data);
          if (plan.kind !== 'ignore') planned.push({ i, event, plan });
        } catch (error) {
          outcomes[i] = outcomeOfError(error);
        }
      }),
    );
    if (planned.length === 0) return outcomes;
    planned.sort((a, b) => a.i - b.i);
    // Mails recorded now are recorded as this replica's to send, when it can send them soon.
    const handOff = deps.delivery?.reserve('smtp');
    const recorded: NewNotification[] = [];
    // Each segment commits on its own (each event is recorded once whatever the others do).
    for (const segment of segments(planned)) {
      if (segment[0]!.plan.kind === 'notify-user') {
        recorded.push(...(await recordOrderEvents(deps, segment, outcomes, handOff)));
        continue;
      }
      await deps.store.inTransaction(async (unit) => {
        const list = await recordUserEvent(deps, unit, segment[0]!);
        const ids = new Set(await unit.addNotifications(list, handOff));
        recorded.push(...list.filter((n) => ids.has(n.id)));
      });
    }
    const mine = handOff ? recorded.filter((n) => n.channel === 'email') : [];
    if (mine.length > 0) deps.delivery?.accept(mine.map((n) => claimedNow(n, handOff!)));
    if (recorded.length > mine.length) deps.delivery?.wake();
    return outcomes;
  };
}

/** Runs of consecutive notify-user events; every other event alone. */
function segments<T extends Planned>(planned: T[]): T[][] {
  const out: T[][] = [];
  for (const p of planned) {
    const last = out.at(-1);
    if (p.plan.kind === 'notify-user' && last?.[0]?.plan.kind === 'notify-user') last.push(p);
    else out.push([p]);
  }
  return out;
}

async function recordUserEvent(
  deps: RecordEventsDeps,
  unit: NotificationUnit,
  { event, plan }: Planned,
): Promise<NewNotification[]> {
  if (!(await unit.claimInbox([event.id])).has(event.id)) return [];
  switch (plan.kind) {
    case 'welcome': {
      const saved = await unit.saveRecipient(plan.recipient);
      // Contact details come once per user (issue 22): anyone able to publish could otherwise
      // redirect a user's mail with a second user.created.
      if (saved === 'conflict') {
        throw new PoisonMessageError('user.created for a known user with other contact details: refused');
      }
      // A late redelivery after user.erased, or the same details again, contacts no one.
      if (saved !== 'saved') return [];
      const { userId, email } = plan.recipient;
      return notificationsFor(deps, event, userId, email, plan.message, await unit.findWebhooks(userId));
    }
    case 'forget-user': {
      await unit.forgetRecipient(plan.userId);
      // Global webhooks still hear of the erasure (the body carries ids only).
      const empty = { subject: event.type, text: '', html: '' };
      return notificationsFor(
        deps,
        event,
        plan.userId,
        undefined,
        empty,
        await unit.findWebhooks(plan.userId),
      );
    }
    case 'notify-user':
      throw new Error('order events are recorded in runs');
    default: {
      const unreachable: never = plan;
      throw new Error(`unhandled plan ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * A run of order events in two round trips: the contacts of their users, then one statement that
 * records the inbox rows and every notification with its delivery (see NotificationStore.recordRun).
 * Returns the notifications recorded.
 */
async function recordOrderEvents(
  deps: RecordEventsDeps,
  run: (Planned & { i: number })[],
  outcomes: HandlingOutcome[],
  handOff: HandOff | undefined,
): Promise<NewNotification[]> {
  const contacts = await deps.store.findContactsMany([
    ...new Set(run.map((p) => (p.plan as { userId: string }).userId)),
  ]);
  const known = run.filter((p) => {
    const userId = (p.plan as { userId: string }).userId;
    if (contacts.get(userId)?.recipient) return true;
    // Not known yet (user.created not handled): try again later; nothing is recorded for it now.
    outcomes[p.i] = { kind: 'retry', reason: `no contact details for user ${userId} yet` };
    return false;
  });
  const notifications: NewNotification[] = [];
  for (const { event, plan } of known) {
    if (plan.kind !== 'notify-user') continue;
    const { recipient, webhooks } = contacts.get(plan.userId)!;
    // Erased: the event is recorded as handled; no one is contacted.
    if (!recipient || recipient === 'erased') continue;
    notifications.push(
      ...notificationsFor(deps, event, plan.userId, recipient.email, plan.render(recipient), webhooks),
    );
  }
  const ids = new Set(
    await deps.store.recordRun({ eventIds: known.map((p) => p.event.id), notifications, handOff }),
  );
  return notifications.filter((n) => ids.has(n.id));
}

/** One pending notification per (channel, target): the email when there is an address, each webhook. */
function notificationsFor(
  deps: RecordEventsDeps,
  event: CloudEvent,
  userId: string,
  email: string | undefined,
  message: Message,
  webhooks: readonly WebhookTarget[],
): NewNotification[] {
  const common = {
    userId,
    eventId: event.id,
    eventType: event.type,
    createdAt: deps.now(),
  };
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
  return list;
}

/**
 * The event's data with its sealed personal data opened (user.created v2, so plans see v1's shape;
 * user.password_reset_requested, with its code). The plaintext lives only in what handling stores
 * (recipients, mail), which user.erased blanks.
 */
async function revealedData(deps: RecordEventsDeps, event: CloudEvent): Promise<unknown> {
  if (event.type !== 'user.created' && event.type !== 'user.password_reset_requested') return event.data;
  const data = event.data as { userId: string; personalData?: unknown };
  if (typeof data.personalData !== 'string') return event.data;
  if (!deps.revealer) {
    throw new RetryLater(
      `USERS_SERVICE_SECRET is not set: cannot reveal the personal data of ${event.type}`,
      60_000,
    );
  }
  const opened = await deps.revealer.reveal(data.userId, data.personalData);
  if (opened === 'erased') return 'erased';
  const { personalData: _, ...rest } = data;
  return {
    ...rest,
    email: opened.email,
    name: opened.name,
    ...(opened.resetToken ? { resetToken: opened.resetToken } : {}),
  };
}

/** A delivery recorded already claimed, as the scheduler holds it. */
function claimedNow(n: NewNotification, handOff: HandOff): ClaimedDelivery {
  return {
    notification: pendingNotification(n),
    bulkhead: handOff.bulkhead,
    webhook: undefined,
    claim: handOff.claim,
    traceparent: undefined, // the scheduler takes the handling's own
  };
}
