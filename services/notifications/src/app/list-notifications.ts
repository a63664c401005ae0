import { checkUuid, decodeKeysetToken, keysetPage, pageSize } from '@conveyor/platform/validation';
import type { Notification, NotificationStore } from './ports.ts';

export interface ListNotificationsQuery {
  userId: string;
  /**
   * A customer's own view: the mail sent to them and the webhooks registered for them. The
   * operator's global webhooks (whose URL is often the credential) and their errors are admins'.
   */
  ownDeliveriesOnly: boolean;
  pageSize: number;
  pageToken: string;
}

/** Newest first, keyset-paginated: a page token is the last row's (createdAt, id). */
export function listNotifications(deps: { store: NotificationStore }) {
  return async (query: ListNotificationsQuery): Promise<{ items: Notification[]; nextPageToken: string }> => {
    if (query.userId) checkUuid('user_id', query.userId);
    const limit = pageSize('page_size', query.pageSize, 500, 50);
    const after = query.pageToken ? decodeKeysetToken(query.pageToken) : undefined;
    const rows = await deps.store.list({
      userId: query.userId || undefined,
      ownDeliveriesOnly: query.ownDeliveriesOnly,
      limit: limit + 1,
      after,
    });
    return keysetPage(rows, limit, (n) => n);
  };
}
