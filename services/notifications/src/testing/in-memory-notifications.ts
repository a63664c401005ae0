import { alreadyExists, failedPrecondition } from '@conveyor/platform/errors';
import type {
  ClaimedDelivery,
  ClaimRequest,
  DeliveryQueue,
  HandOff,
  Settlement,
} from '../app/delivery-queue.ts';
import {
  type NewNotification,
  type Notification,
  type NotificationStore,
  type NotificationUnit,
  pendingNotification,
  type WebhookTarget,
} from '../app/notification-store.ts';
import type { Webhook, WebhookStore } from '../app/webhook-store.ts';
import { bulkheadOf } from '../domain/delivery-decision.ts';
import type { Recipient } from '../domain/notification-plan.ts';

interface Scheduled {
  bulkhead: string;
  dueAt: Date;
  claimedBy: string | undefined;
  claimedUntil: Date | undefined;
}

interface Tables {
  inbox: Set<string>;
  recipients: Map<string, Recipient | 'erased'>;
  webhooks: Map<string, Webhook & { secret: string }>;
  notifications: Map<string, Notification>;
  queue: Map<string, Scheduled>;
}

const emptyTables = (): Tables => ({
  inbox: new Set(),
  recipients: new Map(),
  webhooks: new Map(),
  notifications: new Map(),
  queue: new Map(),
});

/**
 * The notification service's tables in memory, behind the three ports Postgres serves from them:
 * the notification store, the webhook store and the delivery queue. A transaction works on a copy
 * that replaces the tables when it commits, so a throw leaves nothing behind. Times come from the
 * test's clock (Postgres uses its own now()).
 */
export class InMemoryNotificationTables {
  #t: Tables = emptyTables();
  readonly #now: () => Date;

  constructor(now: () => Date) {
    this.#now = now;
  }

  /** What is stored, for assertions. */
  get notifications(): Notification[] {
    return [...this.#t.notifications.values()];
  }

  get scheduled(): number {
    return this.#t.queue.size;
  }

  readonly store: NotificationStore = {
    inTransaction: async (work) => {
      const copy = structuredClone(this.#t);
      await work(this.#unit(copy));
      this.#t = copy;
    },
    findContactsMany: async (userIds) => contactsOf(this.#t, userIds),
    recordRun: async (run) => {
      const fresh = run.eventIds.filter((id) => !this.#t.inbox.has(id));
      for (const id of fresh) this.#t.inbox.add(id);
      // Only for events not handled before, and only while their user is not erased.
      const wanted = run.notifications.filter(
        (n) => fresh.includes(n.eventId) && isContact(this.#t.recipients.get(n.userId)),
      );
      return this.#record(this.#t, wanted, run.handOff);
    },
    requeueFailed: async (which) => {
      const failed = [...this.#t.notifications.values()].filter(
        (n) =>
          n.status === 'failed' &&
          ('eventId' in which ? n.eventId === which.eventId : n.id === which.notificationId),
      );
      for (const n of failed) {
        n.status = 'pending';
        n.failures = 0;
        if (!this.#t.queue.has(n.id)) this.#schedule(this.#t, n, undefined);
      }
      return failed.length;
    },
    list: async (query) => {
      const after = query.after;
      return [...this.#t.notifications.values()]
        .filter((n) => !query.userId || n.userId === query.userId)
        .filter(
          (n) =>
            !query.ownDeliveriesOnly ||
            n.channel === 'email' ||
            this.#t.webhooks.get(n.webhookId ?? '')?.userId === n.userId,
        )
        .filter((n) => !after || keyOf(n) < keyOf({ createdAt: after.createdAt, id: after.id }))
        .sort((a, b) => (keyOf(a) < keyOf(b) ? 1 : -1))
        .slice(0, query.limit)
        .map((n) => structuredClone(n));
    },
  };

  readonly webhooks: WebhookStore = {
    add: async (webhook, maxPerOwner) => {
      const mine = [...this.#t.webhooks.values()].filter((w) => w.userId === webhook.userId);
      if (mine.length >= maxPerOwner)
        throw failedPrecondition(
          `${webhook.userId ? `user ${webhook.userId}` : 'global'} already has ${maxPerOwner} webhooks (the limit)`,
        );
      if (mine.some((w) => w.url === webhook.url))
        throw alreadyExists(`a ${webhook.userId ? "user's" : 'global'} webhook for ${webhook.url}`);
      this.#t.webhooks.set(webhook.id, { ...webhook });
    },
    list: async (query) => {
      const after = query.after;
      return [...this.#t.webhooks.values()]
        .filter((w) => !query.userId || w.userId === query.userId)
        .filter((w) => !after || keyOf(w) > keyOf(after))
        .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1))
        .slice(0, query.limit)
        .map(({ secret: _, ...w }) => w);
    },
    remove: async (id) => {
      if (!this.#t.webhooks.delete(id)) return undefined;
      let cancelled = 0;
      for (const [nid, row] of this.#t.queue) {
        if (row.bulkhead !== bulkheadOf('webhook', id)) continue;
        this.#t.queue.delete(nid);
        const n = this.#t.notifications.get(nid);
        if (n?.status === 'pending') {
          Object.assign(n, { status: 'cancelled', lastError: 'webhook deleted' });
          cancelled++;
        }
      }
      return { cancelled };
    },
  };

  readonly deliveries: DeliveryQueue = {
    claim: async (request: ClaimRequest): Promise<ClaimedDelivery[]> => {
      const now = this.#now();
      const due = [...this.#t.queue]
        .filter(([, r]) => r.dueAt <= now && (!r.claimedUntil || r.claimedUntil <= now))
        .sort(([, a], [, b]) => a.dueAt.getTime() - b.dueAt.getTime());
      const taken = new Map<string, number>();
      const claimed: ClaimedDelivery[] = [];
      for (const [id, row] of due) {
        const limit = request.perBulkhead.get(row.bulkhead) ?? request.defaultPerBulkhead;
        const n = taken.get(row.bulkhead) ?? 0;
        if (n >= limit || claimed.length >= request.total) continue;
        taken.set(row.bulkhead, n + 1);
        row.claimedBy = request.claim;
        row.claimedUntil = new Date(now.getTime() + request.leaseMs);
        claimed.push(this.#claimed(id, row, request.claim));
      }
      return claimed;
    },
    settle: async (outcomes: readonly Settlement[]) => {
      for (const o of outcomes) {
        const row = this.#t.queue.get(o.id);
        const n = this.#t.notifications.get(o.id);
        if (!row || row.claimedBy !== o.claim || !n) continue; // the lease moved on
        if (o.status === 'pending')
          Object.assign(row, {
            dueAt: o.retryAt ?? row.dueAt,
            claimedBy: undefined,
            claimedUntil: undefined,
          });
        else this.#t.queue.delete(o.id);
        n.status = o.status;
        if (o.attempted) Object.assign(n, { attempts: n.attempts + 1, lastAttemptAt: o.at });
        if (o.counted) n.failures++;
        if (o.lastError !== undefined) n.lastError = o.lastError ?? undefined;
        if (o.status === 'sent') n.sentAt = o.at;
      }
    },
    compact: async () => {},
  };

  #unit(t: Tables): NotificationUnit {
    return {
      claimInbox: async (eventIds) => {
        const fresh = new Set(eventIds.filter((id) => !t.inbox.has(id)));
        for (const id of fresh) t.inbox.add(id);
        return fresh;
      },
      saveRecipient: async (r) => {
        const known = t.recipients.get(r.userId);
        if (known === undefined) {
          t.recipients.set(r.userId, { ...r });
          return 'saved';
        }
        if (known === 'erased') return 'erased';
        return known.email === r.email && known.name === r.name ? 'known' : 'conflict';
      },
      forgetRecipient: async (userId) => {
        t.recipients.set(userId, 'erased');
        for (const [id, w] of t.webhooks) if (w.userId === userId) t.webhooks.delete(id);
        for (const n of t.notifications.values()) {
          if (n.userId !== userId) continue;
          n.recipient = '[erased]';
          n.message = { ...n.message, text: '[erased]', html: '[erased]' };
          if (n.status === 'pending') {
            Object.assign(n, { status: 'cancelled', lastError: 'user erased' });
            t.queue.delete(n.id);
          }
        }
      },
      findContactsMany: async (userIds) => contactsOf(t, userIds),
      findWebhooks: async (userId) => webhooksFor(t, userId),
      addNotifications: async (list, handOff) => this.#record(t, list, handOff),
    };
  }

  /** Stores notifications not recorded before for their (event, channel, target), each scheduled now. */
  #record(t: Tables, list: readonly NewNotification[], handOff: HandOff | undefined): string[] {
    const target = (n: NewNotification) => `${n.eventId}\u0000${n.channel}\u0000${n.webhookId ?? ''}`;
    const existing = new Set([...t.notifications.values()].map(target));
    const recorded: string[] = [];
    for (const n of list) {
      if (existing.has(target(n))) continue;
      existing.add(target(n));
      const stored = pendingNotification(structuredClone(n));
      t.notifications.set(n.id, stored);
      this.#schedule(t, stored, handOff);
      recorded.push(n.id);
    }
    return recorded;
  }

  #schedule(t: Tables, n: Notification, handOff: HandOff | undefined): void {
    const bulkhead = bulkheadOf(n.channel, n.webhookId);
    const now = this.#now();
    const mine = handOff?.bulkhead === bulkhead;
    t.queue.set(n.id, {
      bulkhead,
      dueAt: now,
      claimedBy: mine ? handOff.claim : undefined,
      claimedUntil: mine ? new Date(now.getTime() + handOff.leaseMs) : undefined,
    });
  }

  #claimed(id: string, row: Scheduled, claim: string): ClaimedDelivery {
    const n = this.#t.notifications.get(id);
    if (!n) throw new Error(`scheduled delivery ${id} has no notification`);
    const webhook = n.webhookId ? this.#t.webhooks.get(n.webhookId) : undefined;
    return {
      notification: structuredClone(n),
      bulkhead: row.bulkhead,
      webhook: webhook && { url: webhook.url, secret: webhook.secret },
      claim,
      traceparent: undefined,
    };
  }
}

const keyOf = (row: { createdAt: Date; id: string }) => `${row.createdAt.toISOString()}|${row.id}`;
const isContact = (r: Recipient | 'erased' | undefined): r is Recipient => r !== undefined && r !== 'erased';

function webhooksFor(t: Tables, userId: string): WebhookTarget[] {
  return [...t.webhooks.values()]
    .filter((w) => w.userId === userId || w.userId === undefined)
    .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1))
    .map((w) => ({ id: w.id, url: w.url }));
}

function contactsOf(t: Tables, userIds: readonly string[]) {
  const found = new Map<string, { recipient: Recipient | 'erased'; webhooks: WebhookTarget[] }>();
  for (const userId of userIds) {
    const recipient = t.recipients.get(userId);
    if (recipient === undefined) continue;
    found.set(userId, { recipient, webhooks: recipient === 'erased' ? [] : webhooksFor(t, userId) });
  }
  return found;
}
