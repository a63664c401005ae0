import * as notificationsV1 from '@conveyor/contracts/grpc/notifications';
import type { Endpoints } from './addresses.ts';
import { type Outcome, shown } from './cli-error.ts';
import { formatNotifications, formatTime } from './format.ts';
import { asUser } from './service-calls.ts';
import { renderFields, renderTable } from './table.ts';

export async function listNotifications(
  endpoints: Endpoints,
  input: { user?: string; limit?: number; json: boolean },
): Promise<Outcome> {
  const request = { userId: input.user ?? '', pageSize: input.limit ?? 0, pageToken: '' };
  const response = await asUser(endpoints, 'notifications', 'listNotifications', request);
  return shown(input.json, notificationsV1.ListNotificationsResponse.toJSON(response), () => {
    const table = formatNotifications(response.notifications, notificationsV1.notificationStatusToJSON);
    const more = response.nextPageToken
      ? `\n\n(the newest ${response.notifications.length}; more with --limit, up to 500)`
      : '';
    return `${table}${more}`;
  });
}

export async function registerWebhook(
  endpoints: Endpoints,
  input: { user?: string; global: boolean; url: string; json: boolean },
): Promise<Outcome> {
  const request = { userId: input.user ?? '', global: input.global, url: input.url };
  const response = await asUser(endpoints, 'notifications', 'registerWebhook', request);
  const w = response.webhook;
  return shown(
    input.json,
    notificationsV1.RegisterWebhookResponse.toJSON(response),
    () => `registered webhook\n${renderFields([
      ['id', w?.id ?? '-'],
      ['user', w?.userId || '(global: every event)'],
      ['url', w?.url ?? '-'],
      ['secret', response.secret],
    ])}\n\nThe secret is shown only now. Verify each request's Conveyor-Signature header
(t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">) with it.`,
  );
}

export async function listWebhooks(
  endpoints: Endpoints,
  input: { user?: string; limit?: number; json: boolean },
): Promise<Outcome> {
  const request = { userId: input.user ?? '', pageSize: input.limit ?? 0, pageToken: '' };
  const response = await asUser(endpoints, 'notifications', 'listWebhooks', request);
  return shown(input.json, notificationsV1.ListWebhooksResponse.toJSON(response), () => {
    const { webhooks, nextPageToken } = response;
    if (webhooks.length === 0) return 'no webhooks';
    const table = renderTable(
      ['id', 'user', 'url', 'created'],
      webhooks.map((w) => [w.id, w.userId || '(global)', w.url, formatTime(w.createdAt)]),
    );
    return nextPageToken ? `${table}\n\n(the first ${webhooks.length}; more with --limit)` : table;
  });
}

export async function deleteWebhook(
  endpoints: Endpoints,
  input: { id: string; json: boolean },
): Promise<Outcome> {
  const response = await asUser(endpoints, 'notifications', 'deleteWebhook', { id: input.id });
  return shown(
    input.json,
    notificationsV1.DeleteWebhookResponse.toJSON(response),
    () => `deleted webhook ${input.id}; ${response.cancelledDeliveries} pending delivery(ies) cancelled`,
  );
}
