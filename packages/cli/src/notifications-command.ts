import { notificationsV1 } from '@conveyor/contracts/grpc';
import { callUnary } from '@conveyor/platform/grpc-client';
import type { Endpoints } from './addresses.ts';
import type { Outcome } from './cli-error.ts';
import { formatNotifications } from './format.ts';
import { DEADLINE_MS } from './grpc-clients.ts';
import { asUser } from './grpc-failure.ts';

export async function listNotifications(
  endpoints: Endpoints,
  input: { user?: string; limit?: number; json: boolean },
): Promise<Outcome> {
  const request = { userId: input.user ?? '', pageSize: input.limit ?? 0, pageToken: '' };
  const response = await asUser(endpoints, 'notifications', (client) =>
    callUnary(client, client.listNotifications, request, { deadlineMs: DEADLINE_MS }),
  );
  if (input.json) {
    return { text: JSON.stringify(notificationsV1.ListNotificationsResponse.toJSON(response), null, 2) };
  }
  const table = formatNotifications(response.notifications, notificationsV1.notificationStatusToJSON);
  const more = response.nextPageToken
    ? `\n\n(the newest ${response.notifications.length}; more with --limit, up to 500)`
    : '';
  return { text: `${table}${more}` };
}
