import type { Caller } from '@conveyor/platform/core';
import { AppError } from '@conveyor/platform/errors';
import { checkUuid, decodeKeysetToken, keysetPage, pageSize } from '@conveyor/platform/validation';
import type { Notification, NotificationStore } from './notification-store.ts';

export interface ListNotificationsQuery {
  /** Whose: empty for a customer's own; admins name anyone, or no one for all. */
  userId: string;
  pageSize: number;
  pageToken: string;
}

/** Customers list their own notifications (empty user_id = the caller); admins any user's, or all. */
function ownerFor(caller: Caller, requested: string): string {
  if (caller.role === 'admin') return requested;
  if (caller.role === 'customer' && (requested === '' || requested === caller.subject)) return caller.subject;
  throw new AppError('PERMISSION_DENIED', 'user_id: customers can only list their own notifications');
}

/**
 * Newest first, keyset-paginated: a page token is the last row's (createdAt, id). A customer sees
 * their own deliveries only: the mail sent to them and the webhooks registered for them. The
 * operator's global webhooks (whose URL is often the credential) and their errors are admins'.
 */
export function listNotifications(deps: { store: NotificationStore }) {
  return async (
    caller: Caller,
    query: ListNotificationsQuery,
  ): Promise<{ items: Notification[]; nextPageToken: string }> => {
    const userId = ownerFor(caller, query.userId);
    if (userId) checkUuid('user_id', userId);
    const limit = pageSize('page_size', query.pageSize, 500, 50);
    const after = query.pageToken ? decodeKeysetToken(query.pageToken) : undefined;
    const rows = await deps.store.list({
      userId: userId || undefined,
      ownDeliveriesOnly: caller.role !== 'admin',
      limit: limit + 1,
      after,
    });
    return keysetPage(rows, limit, (n) => n);
  };
}
