import type { SendOutcome } from '../domain/delivery-decision.ts';
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

export interface OutgoingMail {
  /** Stable per notification, so a resent mail is recognisable as the same one. */
  messageId: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * A send that failed in a known way. `permanent` when retrying cannot help
 * (the server refused this message for good); transient otherwise.
 */
export class SendFailed extends Error {
  override name = 'SendFailed';
  readonly permanent: boolean;
  constructor(message: string, permanent: boolean) {
    super(message);
    this.permanent = permanent;
  }
}

/** Sends one mail; resolves once the server accepted it, throws (SendFailed or any error) otherwise. */
export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
}

export interface OutgoingWebhook {
  url: string;
  secret: string;
  /** The exact bytes to POST (and sign). */
  body: string;
  /** Stable per notification, so a resent POST is recognisable as the same one. */
  idempotencyKey: string;
  eventId: string;
  eventType: string;
  webhookId: string;
}

/** POSTs one webhook; resolves on a 2xx answer, throws (SendFailed or any error) otherwise. */
export interface WebhookPoster {
  post(request: OutgoingWebhook): Promise<void>;
}

/**
 * Runs sends to one channel target (`key`, a bulkhead: "smtp", "webhook:<id>") behind a circuit
 * breaker. Never throws: it reports sent, failed (permanent or not, and whether the call was the
 * breaker's half-open probe) or held (the breaker is open and nothing was sent).
 */
export interface SendGuard {
  run(
    key: string,
    send: () => Promise<void>,
  ): Promise<Exclude<SendOutcome, { kind: 'target-gone' } | { kind: 'expired' }>>;
  /**
   * How many sends to `key` may start now: Infinity while its breaker is closed, 1 when an open
   * breaker's wait is over (its trial), 0 while it is open or its trial is in flight.
   */
  admits(key: string): number;
}

export interface Webhook {
  id: string;
  /** undefined: global, every event. */
  userId: string | undefined;
  url: string;
  createdAt: Date;
}

export interface WebhookStore {
  /**
   * Stores a registration. Throws AppError ALREADY_EXISTS when its owner has
   * the URL registered, FAILED_PRECONDITION when the owner is at `maxPerOwner`.
   */
  add(webhook: Webhook & { secret: string }, maxPerOwner: number): Promise<void>;
  list(query: {
    userId?: string;
    limit: number;
    after?: { createdAt: Date; id: string };
  }): Promise<Webhook[]>;
  /** undefined when there is no such webhook; else how many pending deliveries were cancelled. */
  remove(id: string): Promise<{ cancelled: number } | undefined>;
}

/**
 * A message the consumer gave up on, or a delivery the scheduler gave up on, as stored in the
 * dead-letter stream.
 */
export interface DeadLetter {
  /** Sequence in the dead-letter stream. */
  id: string;
  consumer: string;
  originalSubject: string;
  originalStream: string;
  originalSequence: number;
  reason: string;
  deliveries: number;
  attempts: number | undefined;
  failedAt: Date | undefined;
  eventId: string | undefined;
  eventType: string | undefined;
  /** Set for a given-up delivery: redriving it requeues this notification (nothing is republished). */
  notificationId: string | undefined;
  headers: ReadonlyMap<string, string>;
  payload: Uint8Array;
}

export interface DeadLetterFilter {
  /** Original subject, exactly. */
  subject?: string | undefined;
  /** Case-insensitive substring of the reason. */
  reasonContains?: string | undefined;
}

/** This consumer's dead letters. Implementations bound every scan. */
export interface DeadLetterQueue {
  /** Oldest first, from after `afterId`; `next` is where the next page starts (undefined: the end). */
  list(
    filter: DeadLetterFilter,
    afterId: string | undefined,
    limit: number,
  ): Promise<{ items: DeadLetter[]; next: string | undefined }>;
  get(id: string): Promise<DeadLetter | undefined>;
  /**
   * Stores a dead letter again under a new reason (redriven, it failed the same way): same
   * original headers and payload, one copy per redrive of it. Resolves once stored.
   */
  readd(deadLetter: DeadLetter, reason: string): Promise<void>;
  /** false when it was not there (removed meanwhile). */
  remove(id: string): Promise<boolean>;
  /**
   * Records a delivery given up after its attempts (or its maximum age): the dead letter names
   * the notification and carries ids only, no personal data. Resolves once stored; repeating it
   * for the same give-up stores one copy.
   */
  addDelivery(failure: { notification: Notification; reason: string }): Promise<void>;
  /** Removes every dead letter of this consumer, or those of one original subject. */
  purge(subject: string | undefined): Promise<number>;
}

/** Contact details sealed into user.created v2, opened by the users service. */
export interface PersonalDataRevealer {
  /**
   * 'erased' when the user's key is gone (nothing may be sent to them).
   * Throws RetryLater while users cannot answer, PoisonMessageError when the
   * sealed value can never be opened.
   */
  reveal(
    userId: string,
    sealed: string,
  ): Promise<{ email: string; name: string; resetToken?: string } | 'erased'>;
}
