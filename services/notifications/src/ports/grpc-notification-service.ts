import type { notificationsV1 } from '@conveyor/contracts';
import { notificationsV1 as v1 } from '@conveyor/contracts';
import { type GrpcService, unary } from '@conveyor/platform';
import { authenticated, authorized, type Principal, type TokenVerifier } from '@conveyor/platform/auth';
import { AppError } from '@conveyor/platform/errors';
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

/** Customers list their own notifications (empty user_id = the caller); admins any user's, or all. */
function notificationsOwner(principal: Principal, requested: string): string {
  if (principal.role === 'admin') return requested;
  if (principal.role === 'customer' && (requested === '' || requested === principal.subject))
    return principal.subject;
  throw new AppError('PERMISSION_DENIED', 'user_id: customers can only list their own notifications');
}

/**
 * Every call needs a verified token: ListNotifications for the caller's own
 * notifications (admins any), webhooks and dead letters for admins only.
 */
export function notificationGrpcService(
  app: NotificationApp,
  logger: Logger,
  verifier: TokenVerifier,
): GrpcService {
  const admin = <Req, Res>(handler: (request: Req) => Promise<Res>) =>
    authorized(verifier, ['admin'], (request: Req) => handler(request));
  const implementation: notificationsV1.NotificationServiceServer = {
    listNotifications: unary(
      'ListNotifications',
      logger,
      authenticated(verifier, async (request: notificationsV1.ListNotificationsRequest, principal) => {
        const page = await app.listNotifications({
          ...request,
          userId: notificationsOwner(principal, request.userId),
          ownDeliveriesOnly: principal.role !== 'admin',
        });
        return { notifications: page.items.map(notificationToProto), nextPageToken: page.nextPageToken };
      }),
    ),
    registerWebhook: unary(
      'RegisterWebhook',
      logger,
      admin(async (request: notificationsV1.RegisterWebhookRequest) => {
        const { webhook, secret } = await app.registerWebhook(request);
        return { webhook: webhookToProto(webhook), secret };
      }),
    ),
    listWebhooks: unary(
      'ListWebhooks',
      logger,
      admin(async (request: notificationsV1.ListWebhooksRequest) => {
        const page = await app.listWebhooks(request);
        return { webhooks: page.items.map(webhookToProto), nextPageToken: page.nextPageToken };
      }),
    ),
    deleteWebhook: unary(
      'DeleteWebhook',
      logger,
      admin(async (request: notificationsV1.DeleteWebhookRequest) => {
        const { cancelled } = await app.deleteWebhook(request.id);
        return { cancelledDeliveries: cancelled };
      }),
    ),
    listDeadLetters: unary(
      'ListDeadLetters',
      logger,
      admin(async (request: notificationsV1.ListDeadLettersRequest) => {
        const page = await app.listDeadLetters({
          filter: filterFromProto(request.filter),
          pageSize: request.pageSize,
          pageToken: request.pageToken,
        });
        return {
          deadLetters: page.items.map((d) => deadLetterToProto(d, false)),
          nextPageToken: page.nextPageToken,
        };
      }),
    ),
    getDeadLetter: unary(
      'GetDeadLetter',
      logger,
      admin(async (request: notificationsV1.GetDeadLetterRequest) => ({
        deadLetter: deadLetterToProto(await app.getDeadLetter(request.id), true),
      })),
    ),
    redriveDeadLetters: unary(
      'RedriveDeadLetters',
      logger,
      admin(async (request: notificationsV1.RedriveDeadLettersRequest) => {
        const result = await app.redriveDeadLetters({
          ...selection(request.selection),
          limit: request.limit,
        });
        logger.info({ redriven: result.redriven.length, more: result.more }, 'dead letters redriven');
        return result;
      }),
    ),
    purgeDeadLetters: unary(
      'PurgeDeadLetters',
      logger,
      admin(async (request: notificationsV1.PurgeDeadLettersRequest) => {
        const result = await app.purgeDeadLetters(selection(request.selection));
        logger.warn({ purged: result.purged }, 'dead letters purged');
        return result;
      }),
    ),
  };
  return {
    name: 'conveyor.notifications.v1.NotificationService',
    definition: v1.NotificationServiceService,
    implementation,
  };
}
