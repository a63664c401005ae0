import { notificationsV1 } from '@conveyor/contracts/grpc';
import type { Endpoints } from './addresses.ts';
import { type Outcome, shown } from './cli-error.ts';
import { formatNotifications } from './format.ts';
import { asUser } from './service-calls.ts';

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
