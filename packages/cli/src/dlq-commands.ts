import * as notificationsV1 from '@conveyor/contracts/grpc/notifications';
import type { Endpoints } from './addresses.ts';
import { type Outcome, shown } from './cli-error.ts';
import { formatTime } from './format.ts';
import type { DlqSelection } from './option-values.ts';
import { asUser } from './service-calls.ts';
import { renderFields, renderTable } from './table.ts';

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
  const response = await asUser(endpoints, 'notifications', 'listDeadLetters', {
    filter: { subject: input.subject ?? '', reasonContains: input.reason ?? '' },
    pageSize: input.limit ?? 0,
    pageToken: input.after ?? '',
  });
  return shown(input.json, notificationsV1.ListDeadLettersResponse.toJSON(response), () => {
    const more = response.nextPageToken
      ? `\n\n(more may follow: ./bin/conveyor dlq list --after ${response.nextPageToken})`
      : '';
    return `${formatDeadLetters(response.deadLetters)}${more}`;
  });
}

export async function showDeadLetter(
  endpoints: Endpoints,
  input: { id: string; json: boolean },
): Promise<Outcome> {
  const { deadLetter } = await asUser(endpoints, 'notifications', 'getDeadLetter', { id: input.id });
  if (!deadLetter) return { text: 'the service returned no dead letter' };
  return shown(input.json, notificationsV1.DeadLetter.toJSON(deadLetter), () => formatDeadLetter(deadLetter));
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
  for (let call = 0; call < maxRedriveCalls && redriven.length < wanted; call++) {
    const response = await asUser(
      endpoints,
      'notifications',
      'redriveDeadLetters',
      { selection: toProto(input.selection), limit: Math.min(1000, wanted - redriven.length) },
      60_000,
    );
    redriven.push(...response.redriven);
    more = response.more;
    if (!more || response.redriven.length === 0) break;
  }
  return shown(input.json, { redriven, more }, () => {
    if (redriven.length === 0) return 'no dead letters matched';
    const tail = more ? '\nmore match: run the command again' : '';
    return `redrove ${redriven.length} dead letter(s): ${redriven.join(', ')}\n(the consumer's inbox drops any event it already handled)${tail}`;
  });
}

export async function purgeDeadLetters(
  endpoints: Endpoints,
  input: { selection: DlqSelection; json: boolean },
): Promise<Outcome> {
  const request = { selection: toProto(input.selection) };
  const { purged } = await asUser(endpoints, 'notifications', 'purgeDeadLetters', request, 60_000);
  return shown(input.json, { purged }, () => `purged ${purged} dead letter(s)`);
}

function formatDeadLetters(deadLetters: readonly notificationsV1.DeadLetter[]): string {
  if (deadLetters.length === 0) return 'no dead letters';
  return renderTable(
    ['id', 'failed', 'subject', 'event', 'deliveries', 'attempts', 'reason'],
    deadLetters.map((d) => [
      d.id,
      formatTime(d.failedAt),
      d.originalSubject,
      d.eventId || '-',
      String(d.deliveries),
      d.attempts ? String(d.attempts) : '-',
      d.reason,
    ]),
  );
}

/** Every field, the headers, and the payload (pretty JSON when it is JSON). */
function formatDeadLetter(d: notificationsV1.DeadLetter): string {
  const fields = renderFields([
    ['id', d.id],
    ['reason', d.reason],
    ['subject', d.originalSubject],
    // A refused or exhausted delivery has no stream message of its own (sequence 0).
    [
      'original',
      d.originalSequence ? `${d.originalStream} #${d.originalSequence}` : `${d.originalStream} (a delivery)`,
    ],
    ['consumer', d.consumer],
    ['event', d.eventId ? `${d.eventId} (${d.eventType})` : '-'],
    ['failed', formatTime(d.failedAt)],
    ['deliveries', String(d.deliveries)],
    ['attempts', d.attempts ? String(d.attempts) : '-'],
  ]);
  const headers = Object.entries(d.headers)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `  ${key}: ${value}`)
    .join('\n');
  return `${fields}\n\nheaders:\n${headers || '  (none)'}\n\npayload:\n${formatPayload(d.payload)}`;
}

function formatPayload(payload: Uint8Array): string {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(payload);
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text === '' ? '(empty)' : text;
  }
}
