import type { notificationsV1 } from '@conveyor/contracts/grpc';
import { formatTime } from './format.ts';
import { renderFields, renderTable } from './table.ts';

export function formatDeadLetters(deadLetters: readonly notificationsV1.DeadLetter[]): string {
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
export function formatDeadLetter(d: notificationsV1.DeadLetter): string {
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

export function formatWebhooks(webhooks: readonly notificationsV1.Webhook[]): string {
  if (webhooks.length === 0) return 'no webhooks';
  return renderTable(
    ['id', 'user', 'url', 'created'],
    webhooks.map((w) => [w.id, w.userId || '(global)', w.url, formatTime(w.createdAt)]),
  );
}
