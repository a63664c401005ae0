import type { Recipient } from '../domain/notification-plan.ts';
import type { Message } from '../domain/templates.ts';

export type NotificationStatus = 'pending' | 'sent' | 'failed';

export interface Notification {
  id: string;
  userId: string;
  eventId: string;
  eventType: string;
  channel: 'email';
  recipient: string;
  message: Message;
  status: NotificationStatus;
  attempts: number;
  lastError: string | undefined;
  createdAt: Date;
  sentAt: Date | undefined;
}

/** Changes made while handling one event; they commit together with its inbox row. */
export interface NotificationUnit {
  saveRecipient(recipient: Recipient): Promise<void>;
  forgetRecipient(userId: string): Promise<void>;
  /** undefined: not known (yet); 'erased': known, and never to be contacted again. */
  findRecipient(userId: string): Promise<Recipient | 'erased' | undefined>;
  /** One notification per (event, channel); a second add for the same pair is ignored. */
  addNotification(n: Omit<Notification, 'status' | 'attempts' | 'lastError' | 'sentAt'>): Promise<void>;
}

export interface NotificationStore {
  /**
   * Runs `work` and records (consumer, eventId) in the inbox in one
   * transaction. Returns false without running it when the event was handled
   * before; a throw from `work` rolls everything back.
   */
  handleOnce(
    consumer: string,
    eventId: string,
    work: (unit: NotificationUnit) => Promise<void>,
  ): Promise<boolean>;
  /**
   * Sends the event's pending notifications with `send`, each claimed with a
   * row lock for the duration of its send, so concurrent deliveries of one
   * event never send twice (the second finds nothing to claim). Marks each
   * sent, or records the failed attempt (and 'failed' when `lastAttempt`)
   * and rethrows.
   */
  sendPending(
    eventId: string,
    send: (n: Notification) => Promise<void>,
    options: { now: () => Date; lastAttempt: boolean },
  ): Promise<void>;
  list(query: {
    userId?: string;
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

/** Sends one mail; resolves once the server accepted it, throws otherwise. */
export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
}
