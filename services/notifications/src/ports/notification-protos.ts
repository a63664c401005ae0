import { notificationsV1 } from '@conveyor/contracts';
import type { DeadLetter, DeadLetterFilter } from '../app/dead-letter-queue.ts';
import type { Notification } from '../app/notification-store.ts';
import type { Webhook } from '../app/webhook-store.ts';

const statusToProto = {
  pending: notificationsV1.NotificationStatus.NOTIFICATION_STATUS_PENDING,
  sent: notificationsV1.NotificationStatus.NOTIFICATION_STATUS_SENT,
  failed: notificationsV1.NotificationStatus.NOTIFICATION_STATUS_FAILED,
  cancelled: notificationsV1.NotificationStatus.NOTIFICATION_STATUS_CANCELLED,
} as const;

export const notificationToProto = (n: Notification): notificationsV1.Notification => ({
  id: n.id,
  userId: n.userId,
  eventId: n.eventId,
  eventType: n.eventType,
  channel: n.channel,
  recipient: n.recipient,
  subject: n.message.subject,
  status: statusToProto[n.status],
  attempts: n.attempts,
  lastError: n.lastError ?? '',
  createdAt: n.createdAt,
  sentAt: n.sentAt,
  webhookId: n.webhookId ?? '',
  lastAttemptAt: n.lastAttemptAt,
});

export const webhookToProto = (w: Webhook): notificationsV1.Webhook => ({
  id: w.id,
  userId: w.userId ?? '',
  url: w.url,
  createdAt: w.createdAt,
});

/** `full`: with headers and payload (GetDeadLetter); lists carry the summary only. */
export const deadLetterToProto = (d: DeadLetter, full: boolean): notificationsV1.DeadLetter => ({
  id: d.id,
  originalSubject: d.originalSubject,
  originalStream: d.originalStream,
  originalSequence: d.originalSequence,
  reason: d.reason,
  deliveries: d.deliveries,
  attempts: d.attempts ?? 0,
  failedAt: d.failedAt,
  consumer: d.consumer,
  eventId: d.eventId ?? '',
  eventType: d.eventType ?? '',
  headers: full ? Object.fromEntries(d.headers) : {},
  payload: full ? Buffer.from(d.payload) : Buffer.alloc(0),
});

export const filterFromProto = (f: notificationsV1.DeadLetterFilter | undefined): DeadLetterFilter => ({
  subject: f?.subject ?? '',
  reasonContains: f?.reasonContains ?? '',
});
