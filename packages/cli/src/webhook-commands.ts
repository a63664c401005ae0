import { notificationsV1 } from '@conveyor/contracts/grpc';
import { callUnary } from '@conveyor/platform/grpc-client';
import type { Endpoints } from './addresses.ts';
import type { Outcome } from './cli-error.ts';
import { formatWebhooks } from './dlq-format.ts';
import { DEADLINE_MS } from './grpc-clients.ts';
import { asUser } from './grpc-failure.ts';
import { renderFields } from './table.ts';

export async function registerWebhook(
  endpoints: Endpoints,
  input: { user?: string; global: boolean; url: string; json: boolean },
): Promise<Outcome> {
  const request = { userId: input.user ?? '', global: input.global, url: input.url };
  const response = await asUser(endpoints, 'notifications', (client) =>
    callUnary(client, client.registerWebhook, request, { deadlineMs: DEADLINE_MS }),
  );
  if (input.json)
    return { text: JSON.stringify(notificationsV1.RegisterWebhookResponse.toJSON(response), null, 2) };
  const w = response.webhook;
  return {
    text: `registered webhook\n${renderFields([
      ['id', w?.id ?? '-'],
      ['user', w?.userId || '(global: every event)'],
      ['url', w?.url ?? '-'],
      ['secret', response.secret],
    ])}\n\nThe secret is shown only now. Verify each request's Conveyor-Signature header
(t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">) with it.`,
  };
}

export async function listWebhooks(
  endpoints: Endpoints,
  input: { user?: string; limit?: number; json: boolean },
): Promise<Outcome> {
  const request = { userId: input.user ?? '', pageSize: input.limit ?? 0, pageToken: '' };
  const response = await asUser(endpoints, 'notifications', (client) =>
    callUnary(client, client.listWebhooks, request, { deadlineMs: DEADLINE_MS }),
  );
  if (input.json)
    return { text: JSON.stringify(notificationsV1.ListWebhooksResponse.toJSON(response), null, 2) };
  const more = response.nextPageToken ? `\n\n(the first ${response.webhooks.length}; more with --limit)` : '';
  return { text: `${formatWebhooks(response.webhooks)}${more}` };
}

export async function deleteWebhook(
  endpoints: Endpoints,
  input: { id: string; json: boolean },
): Promise<Outcome> {
  const response = await asUser(endpoints, 'notifications', (client) =>
    callUnary(client, client.deleteWebhook, { id: input.id }, { deadlineMs: DEADLINE_MS }),
  );
  if (input.json)
    return { text: JSON.stringify(notificationsV1.DeleteWebhookResponse.toJSON(response), null, 2) };
  return {
    text: `deleted webhook ${input.id}; ${response.cancelledDeliveries} pending delivery(ies) cancelled`,
  };
}
