import { InvalidArgument } from '@conveyor/platform/errors';
import type { Notification, NotificationStore } from './ports.ts';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ListNotificationsQuery {
  userId: string;
  pageSize: number;
  pageToken: string;
}

/** Newest first, keyset-paginated: a page token is the last row's (createdAt, id). */
export function listNotifications(deps: { store: NotificationStore }) {
  return async (query: ListNotificationsQuery): Promise<{ items: Notification[]; nextPageToken: string }> => {
    if (query.userId && !uuidPattern.test(query.userId)) {
      throw new InvalidArgument('user_id', `"${query.userId}" is not a UUID`);
    }
    if (!Number.isInteger(query.pageSize) || query.pageSize < 0 || query.pageSize > 500) {
      throw new InvalidArgument('page_size', 'must be between 0 and 500');
    }
    const limit = query.pageSize || 50;
    const after = query.pageToken ? decodeToken(query.pageToken) : undefined;
    const rows = await deps.store.list({ userId: query.userId || undefined, limit: limit + 1, after });
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, nextPageToken: rows.length > limit && last ? encodeToken(last) : '' };
  };
}

function encodeToken(n: Notification): string {
  return Buffer.from(JSON.stringify([n.createdAt.toISOString(), n.id])).toString('base64url');
}

function decodeToken(token: string): { createdAt: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as [string, string];
    const date = new Date(createdAt);
    if (Number.isNaN(date.getTime()) || !uuidPattern.test(id)) throw new Error('bad token');
    return { createdAt: date, id };
  } catch {
    throw new InvalidArgument('page_token', 'is not a token from a previous response');
  }
}
