import type { notificationsV1 } from '@conveyor/contracts';
import { notificationsV1 as v1 } from '@conveyor/contracts';
import { type GrpcService, unary } from '@conveyor/platform';
import type { Logger } from 'pino';
import type { ListDeadLettersQuery } from '../app/list-dead-letters.ts';
import type { ListNotificationsQuery } from '../app/list-notifications.ts';
import type { ListWebhooksQuery } from '../app/list-webhooks.ts';
import type { DeadLetter, DeadLetterFilter, Notification, Webhook } from '../app/ports.ts';
import type { PurgeDeadLettersCommand } from '../app/purge-dead-letters.ts';
import type { RedriveDeadLettersCommand } from '../app/redrive-dead-letters.ts';
import type { RegisterWebhookCommand } from '../app/register-webhook.ts';
import {
  deadLetterToProto,
  filterFromProto,
  notificationToProto,
  webhookToProto,
} from './notification-protos.ts';

type Page<T> = Promise<{ items: T[]; nextPageToken: string }>;

/** The use cases this port exposes; service.ts builds them. */
export interface NotificationApp {
  listNotifications(query: ListNotificationsQuery): Page<Notification>;
  registerWebhook(command: RegisterWebhookCommand): Promise<{ webhook: Webhook; secret: string }>;
  listWebhooks(query: ListWebhooksQuery): Page<Webhook>;
  deleteWebhook(id: string): Promise<{ cancelled: number }>;
  listDeadLetters(query: ListDeadLettersQuery): Page<DeadLetter>;
  getDeadLetter(id: string): Promise<DeadLetter>;
  redriveDeadLetters(command: RedriveDeadLettersCommand): Promise<{ redriven: string[]; more: boolean }>;
  purgeDeadLetters(command: PurgeDeadLettersCommand): Promise<{ purged: number }>;
}

const selection = (s: notificationsV1.DeadLetterSelection | undefined) => ({
  id: s?.id ?? '',
  filter: filterFromProto(s?.filter) satisfies DeadLetterFilter,
  all: s?.all ?? false,
});

export function notificationGrpcService(app: NotificationApp, logger: Logger): GrpcService {
  const implementation: notificationsV1.NotificationServiceServer = {
    listNotifications: unary(
      'ListNotifications',
      logger,
      async (request: notificationsV1.ListNotificationsRequest) => {
        const page = await app.listNotifications(request);
        return { notifications: page.items.map(notificationToProto), nextPageToken: page.nextPageToken };
      },
    ),
    registerWebhook: unary(
      'RegisterWebhook',
      logger,
      async (request: notificationsV1.RegisterWebhookRequest) => {
        const { webhook, secret } = await app.registerWebhook(request);
        return { webhook: webhookToProto(webhook), secret };
      },
    ),
    listWebhooks: unary('ListWebhooks', logger, async (request: notificationsV1.ListWebhooksRequest) => {
      const page = await app.listWebhooks(request);
      return { webhooks: page.items.map(webhookToProto), nextPageToken: page.nextPageToken };
    }),
    deleteWebhook: unary('DeleteWebhook', logger, async (request: notificationsV1.DeleteWebhookRequest) => {
      const { cancelled } = await app.deleteWebhook(request.id);
      return { cancelledDeliveries: cancelled };
    }),
    listDeadLetters: unary(
      'ListDeadLetters',
      logger,
      async (request: notificationsV1.ListDeadLettersRequest) => {
        const page = await app.listDeadLetters({
          filter: filterFromProto(request.filter),
          pageSize: request.pageSize,
          pageToken: request.pageToken,
        });
        return {
          deadLetters: page.items.map((d) => deadLetterToProto(d, false)),
          nextPageToken: page.nextPageToken,
        };
      },
    ),
    getDeadLetter: unary('GetDeadLetter', logger, async (request: notificationsV1.GetDeadLetterRequest) => ({
      deadLetter: deadLetterToProto(await app.getDeadLetter(request.id), true),
    })),
    redriveDeadLetters: unary(
      'RedriveDeadLetters',
      logger,
      async (request: notificationsV1.RedriveDeadLettersRequest) => {
        const result = await app.redriveDeadLetters({
          ...selection(request.selection),
          limit: request.limit,
        });
        logger.info({ redriven: result.redriven.length, more: result.more }, 'dead letters redriven');
        return result;
      },
    ),
    purgeDeadLetters: unary(
      'PurgeDeadLetters',
      logger,
      async (request: notificationsV1.PurgeDeadLettersRequest) => {
        const result = await app.purgeDeadLetters(selection(request.selection));
        logger.warn({ purged: result.purged }, 'dead letters purged');
        return result;
      },
    ),
  };
  return {
    name: 'conveyor.notifications.v1.NotificationService',
    definition: v1.NotificationServiceService,
    implementation,
  };
}
