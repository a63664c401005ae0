import { notificationsV1 } from '@conveyor/contracts';
import { type GrpcService, unary } from '@conveyor/platform';
import type { Logger } from 'pino';
import type { ListNotificationsQuery } from '../app/list-notifications.ts';
import type { Notification } from '../app/ports.ts';

export interface NotificationQueries {
  listNotifications(query: ListNotificationsQuery): Promise<{ items: Notification[]; nextPageToken: string }>;
}

const statusToProto = {
  pending: notificationsV1.NotificationStatus.NOTIFICATION_STATUS_PENDING,
  sent: notificationsV1.NotificationStatus.NOTIFICATION_STATUS_SENT,
  failed: notificationsV1.NotificationStatus.NOTIFICATION_STATUS_FAILED,
} as const;

const toProto = (n: Notification): notificationsV1.Notification => ({
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
});

export function notificationGrpcService(app: NotificationQueries, logger: Logger): GrpcService {
  const implementation: notificationsV1.NotificationServiceServer = {
    listNotifications: unary(
      'ListNotifications',
      logger,
      async (request: notificationsV1.ListNotificationsRequest) => {
        const page = await app.listNotifications({
          userId: request.userId,
          pageSize: request.pageSize,
          pageToken: request.pageToken,
        });
        return { notifications: page.items.map(toProto), nextPageToken: page.nextPageToken };
      },
    ),
  };
  return {
    name: 'conveyor.notifications.v1.NotificationService',
    definition: notificationsV1.NotificationServiceService,
    implementation,
  };
}
