import type { Notification } from '../app/notification-store.ts';

/** A notifications row as node-pg returns it. */
export interface NotificationRow {
  id: string;
  user_id: string;
  event_id: string;
  event_type: string;
  channel: Notification['channel'];
  recipient: string;
  webhook_id: string | null;
  subject: string;
  body_text: string;
  body_html: string;
  status: Notification['status'];
  attempts: number;
  failures: number;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
  last_attempt_at: Date | null;
}

export const notificationColumns = [
  'id',
  'user_id',
  'event_id',
  'event_type',
  'channel',
  'recipient',
  'webhook_id',
  'subject',
  'body_text',
  'body_html',
  'status',
  'attempts',
  'failures',
  'last_error',
  'created_at',
  'sent_at',
  'last_attempt_at',
] as const;

export const columns = notificationColumns.join(', ');

export const fromRow = (r: NotificationRow): Notification => ({
  id: r.id,
  userId: r.user_id,
  eventId: r.event_id,
  eventType: r.event_type,
  channel: r.channel,
  recipient: r.recipient,
  webhookId: r.webhook_id ?? undefined,
  message: { subject: r.subject, text: r.body_text, html: r.body_html },
  status: r.status,
  attempts: r.attempts,
  failures: r.failures,
  lastError: r.last_error ?? undefined,
  createdAt: r.created_at,
  sentAt: r.sent_at ?? undefined,
  lastAttemptAt: r.last_attempt_at ?? undefined,
});
