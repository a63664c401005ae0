import type { notificationsV1 } from '@conveyor/contracts';
import { notificationsV1 as v1 } from '@conveyor/contracts';
import { type GrpcService, unary } from '@conveyor/platform';
import { authenticated, type Principal, type TokenVerifier } from '@conveyor/platform/auth';
import type { Metadata } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { NotificationApp } from '../app/build-app.ts';
import type { DeadLetterFilter } from '../app/dead-letter-queue.ts';
import {
  deadLetterToProto,
  filterFromProto,
  notificationToProto,
  webhookToProto,
} from './notification-protos.ts';

const selection = (s: notificationsV1.DeadLetterSelection | undefined) => ({
  id: s?.id ?? '',
  filter: filterFromProto(s?.filter) satisfies DeadLetterFilter,
  all: s?.all ?? false,
});

/**
 * Protobuf ↔ use cases. Every call needs a verified token; who may see or change what is the use
 * cases' rule (ListNotifications: a customer's own; webhooks and dead letters: admins).
 */
export function notificationGrpcService(
  app: NotificationApp,
  logger: Logger,
  verifier: TokenVerifier,
): GrpcService {
  /** A unary method for a verified caller; errors become status codes in `unary`. */
  const signedIn = <Req, Res>(method: string, handler: (request: Req, caller: Principal) => Promise<Res>) =>
    unary(method, logger, authenticated<Req, { metadata: Metadata }, Res>(verifier, handler));
  const implementation: notificationsV1.NotificationServiceServer = {
    listNotifications: signedIn(
      'ListNotifications',
      async (request: notificationsV1.ListNotificationsRequest, caller) => {
        const page = await app.listNotifications(caller, request);
        return { notifications: page.items.map(notificationToProto), nextPageToken: page.nextPageToken };
      },
    ),
    registerWebhook: signedIn(
      'RegisterWebhook',
      async (request: notificationsV1.RegisterWebhookRequest, caller) => {
        const { webhook, secret } = await app.registerWebhook(caller, request);
        return { webhook: webhookToProto(webhook), secret };
      },
    ),
    listWebhooks: signedIn('ListWebhooks', async (request: notificationsV1.ListWebhooksRequest, caller) => {
      const page = await app.listWebhooks(caller, request);
      return { webhooks: page.items.map(webhookToProto), nextPageToken: page.nextPageToken };
    }),
    deleteWebhook: signedIn(
      'DeleteWebhook',
      async (request: notificationsV1.DeleteWebhookRequest, caller) => {
        const { cancelled } = await app.deleteWebhook(caller, request.id);
        return { cancelledDeliveries: cancelled };
      },
    ),
    listDeadLetters: signedIn(
      'ListDeadLetters',
      async (request: notificationsV1.ListDeadLettersRequest, caller) => {
        const page = await app.listDeadLetters(caller, {
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
    getDeadLetter: signedIn(
      'GetDeadLetter',
      async (request: notificationsV1.GetDeadLetterRequest, caller) => ({
        deadLetter: deadLetterToProto(await app.getDeadLetter(caller, request.id), true),
      }),
    ),
    redriveDeadLetters: signedIn(
      'RedriveDeadLetters',
      async (request: notificationsV1.RedriveDeadLettersRequest, caller) => {
        const result = await app.redriveDeadLetters(caller, {
          ...selection(request.selection),
          limit: request.limit,
        });
        logger.info({ redriven: result.redriven.length, more: result.more }, 'dead letters redriven');
        return result;
      },
    ),
    purgeDeadLetters: signedIn(
      'PurgeDeadLetters',
      async (request: notificationsV1.PurgeDeadLettersRequest, caller) => {
        const result = await app.purgeDeadLetters(caller, selection(request.selection));
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
