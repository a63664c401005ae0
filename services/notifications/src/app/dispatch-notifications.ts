import { type Delivery, GiveUp, RetryLater } from '@conveyor/platform';
import { type DeliveryDecision, decideDelivery, type SendOutcome } from '../domain/delivery-decision.ts';
import type {
  ClaimedNotification,
  Mailer,
  Notification,
  NotificationStore,
  SendGuard,
  WebhookPoster,
} from './ports.ts';

export interface DispatchDeps {
  store: NotificationStore;
  mailer: Mailer;
  webhooks: WebhookPoster;
  guard: SendGuard;
  mailDomain: string;
  now: () => Date;
  /** In [0, 1): spreads retry delays so held messages do not return in one burst. */
  random: () => number;
  /** The consumer's max_deliver: on that delivery, whatever is not sent is given up. */
  maxDeliver: number;
  /** Counted send failures per notification before it is given up. */
  maxAttempts: number;
  /** The consumer's nak delays by delivery; also the retry delays by counted failure. */
  backoffMs: readonly number[];
  /** Called once per send outcome (metrics). */
  onOutcome?: (channel: Notification['channel'], outcome: SendOutcome['kind']) => void;
}

/**
 * Another delivery of the same event holds some of its notifications right
 * now. It may still fail, so this delivery must not be acknowledged as done:
 * it is retried later and then finds them sent (or sends them).
 */
export class SendInProgress extends Error {
  override name = 'SendInProgress';
  constructor(eventId: string) {
    super(`another delivery of event ${eventId} is sending its notifications`);
  }
}

/**
 * The send step of an event, run on every delivery. Each pending
 * notification is claimed and sent in its own transaction (a crash can
 * resend at most the sends in flight), then the outcome decides:
 * - all sent → return (ack);
 * - some still pending (held by an open breaker, or failed with budget
 *   left) → RetryLater with the shortest of their delays, jittered;
 * - some given up → GiveUp: the event goes to the dead letters, and a
 *   redrive makes those notifications pending again.
 */
export function dispatchNotifications(deps: DispatchDeps) {
  return async (
    eventId: string,
    delivery: Delivery,
    fresh?: { pending: readonly string[] },
  ): Promise<void> => {
    // Just recorded by this delivery: all pending, none given up; otherwise read what is left.
    const { pending, failed } = fresh
      ? { pending: fresh.pending, failed: [] }
      : await deps.store.deliveryState(eventId);
    const policy = {
      maxAttempts: deps.maxAttempts,
      backoffMs: deps.backoffMs,
      lastDelivery: delivery.deliveryCount >= deps.maxDeliver,
      holdFloorMs: step(deps.backoffMs, delivery.deliveryCount),
    };
    const retries: { inMs: number; why: string }[] = [];
    const givenUp: Notification[] = [...failed];
    let busy = 0;
    for (const id of pending) {
      const result = await deps.store.deliverOne(
        id,
        async (claimed) => {
          const outcome = await offer(deps, claimed);
          deps.onOutcome?.(claimed.notification.channel, outcome.kind);
          const decision = decideDelivery(claimed.notification.failures, outcome, policy);
          const n = claimed.notification;
          if (decision.retryInMs !== undefined) {
            retries.push({ inMs: decision.retryInMs, why: describe(n, decision, outcome) });
          }
          if (decision.status === 'failed') givenUp.push(after(n, decision));
          return decision;
        },
        deps.now,
      );
      if (result === 'busy') busy++;
    }
    if (retries.length > 0) {
      const soonest = retries.reduce((a, b) => (b.inMs < a.inMs ? b : a));
      const jittered = Math.round(soonest.inMs * (0.8 + 0.4 * deps.random()));
      throw new RetryLater(retries.map((r) => r.why).join('; '), jittered);
    }
    if (busy > 0) throw new SendInProgress(eventId);
    if (givenUp.length > 0) {
      throw new GiveUp(
        givenUp
          .map((n) => `${label(n)} after ${n.attempts} attempt(s): ${n.lastError ?? 'unknown error'}`)
          .join('; '),
        Math.max(...givenUp.map((n) => n.attempts)),
      );
    }
  };
}

function offer(deps: DispatchDeps, claimed: ClaimedNotification): Promise<SendOutcome> {
  const n = claimed.notification;
  if (n.channel === 'email') {
    return deps.guard.run('smtp', () =>
      deps.mailer.send({
        messageId: `<${n.eventId}.email@${deps.mailDomain}>`,
        to: n.recipient,
        ...n.message,
      }),
    );
  }
  const webhook = claimed.webhook;
  if (!webhook || !n.webhookId) return Promise.resolve({ kind: 'target-gone', reason: 'webhook deleted' });
  const webhookId = n.webhookId;
  return deps.guard.run(`webhook:${new URL(webhook.url).host}`, () =>
    deps.webhooks.post({
      url: webhook.url,
      secret: webhook.secret,
      body: n.message.text,
      idempotencyKey: `${n.eventId}.${webhookId}`,
      eventId: n.eventId,
      eventType: n.eventType,
      webhookId,
    }),
  );
}

/** Names a notification in logs and dead-letter reasons without personal data. */
function label(n: Notification): string {
  return n.channel === 'email' ? `email ${n.id}` : `webhook ${n.webhookId} (${n.id})`;
}

function describe(n: Notification, decision: DeliveryDecision, outcome: SendOutcome): string {
  if (outcome.kind === 'held') return `${label(n)} held: ${outcome.reason}`;
  return `${label(n)} failed (${n.failures + (decision.counted ? 1 : 0)} counted): ${decision.lastError ?? ''}`;
}

function after(n: Notification, d: DeliveryDecision): Notification {
  return {
    ...n,
    status: d.status,
    attempts: n.attempts + (d.attempted ? 1 : 0),
    failures: n.failures + (d.counted ? 1 : 0),
    lastError: d.lastError === undefined ? n.lastError : (d.lastError ?? undefined),
  };
}

function step(delays: readonly number[], attempt: number): number {
  return delays[Math.min(Math.max(attempt, 1), delays.length) - 1] ?? 1000;
}
