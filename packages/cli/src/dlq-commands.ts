import { notificationsV1 } from '@conveyor/contracts/grpc';
import { callUnary } from '@conveyor/platform/grpc-client';
import type { Endpoints } from './addresses.ts';
import type { Outcome } from './cli-error.ts';
import { formatDeadLetter, formatDeadLetters } from './dlq-format.ts';
import { DEADLINE_MS } from './grpc-clients.ts';
import { asUser } from './grpc-failure.ts';
import type { DlqSelection } from './option-values.ts';

/** Redrive calls per command at most (each handles up to 1000 dead letters). */
const maxRedriveCalls = 100;

function toProto(selection: DlqSelection): notificationsV1.DeadLetterSelection {
  if ('id' in selection) return { id: selection.id, filter: undefined, all: false };
  if ('all' in selection) return { id: '', filter: undefined, all: true };
  return {
    id: '',
    filter: { subject: selection.subject ?? '', reasonContains: selection.reason ?? '' },
    all: false,
  };
}

export async function listDeadLetters(
  endpoints: Endpoints,
  input: { subject?: string; reason?: string; limit?: number; after?: string; json: boolean },
): Promise<Outcome> {
  const request = {
    filter: { subject: input.subject ?? '', reasonContains: input.reason ?? '' },
    pageSize: input.limit ?? 0,
    pageToken: input.after ?? '',
  };
  const response = await asUser(endpoints, 'notifications', (client) =>
    callUnary(client, client.listDeadLetters, request, { deadlineMs: DEADLINE_MS }),
  );
  if (input.json) {
    return { text: JSON.stringify(notificationsV1.ListDeadLettersResponse.toJSON(response), null, 2) };
  }
  const more = response.nextPageToken
    ? `\n\n(more may follow: ./bin/conveyor dlq list --after ${response.nextPageToken})`
    : '';
  return { text: `${formatDeadLetters(response.deadLetters)}${more}` };
}

export async function showDeadLetter(
  endpoints: Endpoints,
  input: { id: string; json: boolean },
): Promise<Outcome> {
  const response = await asUser(endpoints, 'notifications', (client) =>
    callUnary(client, client.getDeadLetter, { id: input.id }, { deadlineMs: DEADLINE_MS }),
  );
  if (!response.deadLetter) return { text: 'the service returned no dead letter' };
  if (input.json)
    return { text: JSON.stringify(notificationsV1.DeadLetter.toJSON(response.deadLetter), null, 2) };
  return { text: formatDeadLetter(response.deadLetter) };
}

/**
 * Redrives until nothing more matches or `limit` are done, in calls of at
 * most 1000 (bounded by maxRedriveCalls). Safe to run again after a failure.
 */
export async function redriveDeadLetters(
  endpoints: Endpoints,
  input: { selection: DlqSelection; limit?: number; json: boolean },
): Promise<Outcome> {
  const wanted = 'id' in input.selection ? 1 : (input.limit ?? 10_000);
  const redriven: string[] = [];
  let more = false;
  await asUser(endpoints, 'notifications', async (client) => {
    for (let call = 0; call < maxRedriveCalls && redriven.length < wanted; call++) {
      const response = await callUnary(
        client,
        client.redriveDeadLetters,
        { selection: toProto(input.selection), limit: Math.min(1000, wanted - redriven.length) },
        { deadlineMs: 60_000 },
      );
      redriven.push(...response.redriven);
      more = response.more;
      if (!more || response.redriven.length === 0) break;
    }
  });
  if (input.json) return { text: JSON.stringify({ redriven, more }, null, 2) };
  if (redriven.length === 0) return { text: 'no dead letters matched' };
  const tail = more ? '\nmore match: run the command again' : '';
  return {
    text: `redrove ${redriven.length} dead letter(s): ${redriven.join(', ')}\n(the consumer's inbox drops any event it already handled)${tail}`,
  };
}

export async function purgeDeadLetters(
  endpoints: Endpoints,
  input: { selection: DlqSelection; json: boolean },
): Promise<Outcome> {
  const response = await asUser(endpoints, 'notifications', (client) =>
    callUnary(
      client,
      client.purgeDeadLetters,
      { selection: toProto(input.selection) },
      { deadlineMs: 60_000 },
    ),
  );
  if (input.json) return { text: JSON.stringify({ purged: response.purged }, null, 2) };
  return { text: `purged ${response.purged} dead letter(s)` };
}
