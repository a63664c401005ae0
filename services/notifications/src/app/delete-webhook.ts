import { notFound } from '@conveyor/platform/errors';
import { checkUuid } from '@conveyor/platform/validation';
import type { WebhookStore } from './webhook-store.ts';

/** Deletes a webhook and cancels its pending deliveries; NOT_FOUND when there is none. */
export function deleteWebhook(deps: { webhooks: WebhookStore }) {
  return async (id: string): Promise<{ cancelled: number }> => {
    checkUuid('id', id);
    const removed = await deps.webhooks.remove(id);
    if (!removed) throw notFound(`webhook ${id}`);
    return removed;
  };
}
