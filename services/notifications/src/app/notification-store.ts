import type { Recipient } from '../domain/notification-plan.ts';
import type { Message } from '../domain/templates.ts';
import type { HandOff } from './delivery-queue.ts';

export type Channel = 'email' | 'webhook';

export type NotificationStatus = 'pending' | 'sent' | 'failed' | 'cancelled';

/** One notification per (event, channel, target): the user's address, or one webhook. */
export interface Notification {
  id: string;
  userId: string;
  eventId: string;
  eventType: string;
  channel: Channel;
  /** The email address, or the webhook URL. */
  recipient: string;
  /** The webhook delivered to; undefined for email. */
  webhookId: string | undefined;
  /** For webhooks: subject = event type, text = the JSON body, html empty. */
  message: Message;
  status: NotificationStatus;
  /** Sends tried, including the successful one. */
  attempts: number;
  /** Failed sends counted against the retry budget (a redrive resets it). */
  failures: number;
  lastError: string | undefined;
  createdAt: Date;
  sentAt: Date | undefined;
  lastAttemptAt: Date | undefined;
}

export type NewNotification = Pick<
  Notification,
  'id' | 'userId' | 'eventId' | 'eventType' | 'channel' | 'recipient' | 'webhookId' | 'message' | 'createdAt'
>;

/** A notification as it is recorded: pending, nothing tried yet. */
export const pendingNotification = (n: NewNotification): Notification => ({
  ...n,
  status: 'pending',
  attempts: 0,
  failures: 0,
  lastError: undefined,
  sentAt: undefined,
  lastAttemptAt: undefined,
});

/** Where a webhook posts; the secret stays in the store and the sender. */
export interface WebhookTarget {
  id: string;
  url: string;
}

/** Changes made while handling one event; they commit together with its inbox row. */
export interface NotificationUnit {
  /**
   * Stores a new user's contact details. Never rewrites them (issue 22: a forged user.created must
   * not redirect a user's mail): `known` when the same details are stored already, `conflict` when
   * other ones are, `erased` when the user was erased; nothing changes then.
   */
  saveRecipient(recipient: Recipient): Promise<'saved' | 'known' | 'conflict' | 'erased'>;
  /**
   * Erases the user: drops the contact details and the user's webhooks,
   * blanks stored notification content and cancels what is still pending.
   */
  forgetRecipient(userId: string): Promise<void>;
  /**
   * Several users' contact details and webhooks (theirs and the global ones), read in one
   * statement. A user missing from the map is not known (yet); recipient 'erased': known, and
   * never to be contacted again (webhooks are then empty).
   */
  findContactsMany(
    userIds: readonly string[],
  ): Promise<Map<string, { recipient: Recipient | 'erased'; webhooks: WebhookTarget[] }>>;
  /** Records the events in the inbox; returns those not handled before (their effects apply now). */
  claimInbox(eventIds: readonly string[]): Promise<Set<string>>;
  /** The user's webhooks and the global ones. */
  findWebhooks(userId: string): Promise<WebhookTarget[]>;
  /**
   * Records notifications as pending and schedules their delivery (due now), those on the
   * hand-off's bulkhead already claimed by it; one already recorded for the same (event, channel,
   * target) is left alone. Returns the ids recorded.
   */
  addNotifications(notifications: readonly NewNotification[], handOff?: HandOff): Promise<string[]>;
}

export interface NotificationStore {
  /** Runs `work` in one transaction; a throw from it rolls everything back. */
  inTransaction(work: (unit: NotificationUnit) => Promise<void>): Promise<void>;
  /** As NotificationUnit.findContactsMany, outside a transaction (recordRun rechecks erasure). */
  findContactsMany(
    userIds: readonly string[],
  ): Promise<Map<string, { recipient: Recipient | 'erased'; webhooks: WebhookTarget[] }>>;
  /**
   * In one statement: records the events in the inbox, and for those not handled before, their
   * notifications with their deliveries (on the hand-off's bulkhead already claimed) — only while
   * their user is not erased, checked under a share lock on the user's contact row, so an erasure
   * either sees and cancels them or they are not recorded. Returns the notification ids recorded.
   */
  recordRun(run: {
    eventIds: readonly string[];
    notifications: readonly NewNotification[];
    handOff: HandOff | undefined;
  }): Promise<string[]>;
  /**
   * Makes given-up notifications pending again with a fresh budget and due now (redrive): those
   * of one event, or the one notification named. Returns how many.
   */
  requeueFailed(which: { eventId: string } | { notificationId: string }): Promise<number>;
  list(query: {
    userId?: string;
    /** Mail to the user and the webhooks registered for them only: no operator's global webhooks. */
    ownDeliveriesOnly?: boolean;
    limit: number;
    after?: { createdAt: Date; id: string };
  }): Promise<Notification[]>;
}
