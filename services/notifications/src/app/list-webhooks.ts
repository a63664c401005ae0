import { checkUuid, decodeKeysetToken, keysetPage, pageSize } from '@conveyor/platform/validation';
import type { Webhook, WebhookStore } from './webhook-store.ts';

export interface ListWebhooksQuery {
  userId: string;
  pageSize: number;
  pageToken: string;
}

/** Oldest first, keyset-paginated; secrets are never listed. */
export function listWebhooks(deps: { webhooks: WebhookStore }) {
  return async (query: ListWebhooksQuery): Promise<{ items: Webhook[]; nextPageToken: string }> => {
    if (query.userId) checkUuid('user_id', query.userId);
    const limit = pageSize('page_size', query.pageSize, 500, 50);
    const after = query.pageToken ? decodeKeysetToken(query.pageToken) : undefined;
    const rows = await deps.webhooks.list({ userId: query.userId || undefined, limit: limit + 1, after });
    return keysetPage(rows, limit, (w) => w);
  };
}
