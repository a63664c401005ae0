import * as consumersV1 from '@conveyor/contracts/grpc/consumers';
import type { Endpoints } from './addresses.ts';
import { type Outcome, shown, UsageError } from './cli-error.ts';
import { type ConsumingService, consuming, type SequenceRef } from './option-values.ts';
import { asConsumers } from './service-calls.ts';
import { renderFields, renderTable } from './table.ts';

export async function listSequences(
  endpoints: Endpoints,
  { service: only, json }: { service?: ConsumingService; json: boolean },
): Promise<Outcome> {
  const rows: { service: ConsumingService; sequence: consumersV1.DeadLetterSequence }[] = [];
  let more = false;
  for (const service of only ? [only] : consuming) {
    const request = { consumer: '', pageSize: 500, pageToken: '' };
    const response = await asConsumers(endpoints, service, 'listDeadLetterSequences', request);
    rows.push(...response.sequences.map((sequence) => ({ service, sequence })));
    more ||= response.nextPageToken !== '';
  }
  const asJson = rows.map(({ service, sequence }) => ({
    service,
    ...(consumersV1.DeadLetterSequence.toJSON(sequence) as object),
  }));
  return shown(json, asJson, () => {
    if (rows.length === 0) return 'no dead letters: every key flows';
    const table = renderTable(
      ['ID', 'CONSUMER', 'KEY', 'STATE', 'EVENT', 'PARKED', 'REASON'],
      rows.map(({ service, sequence }) => {
        const head = sequence.head as consumersV1.SequencedMessage;
        return [
          `${service}/${head.id}`,
          head.consumer,
          head.sequenceKey,
          head.state,
          head.eventType || head.subject,
          String(sequence.parkedBehind),
          head.reason,
        ];
      }),
    );
    return more ? `${table}\n\n(500 per service shown; more wait)` : table;
  });
}

export async function showSequence(
  endpoints: Endpoints,
  { ref, json }: { ref: SequenceRef; json: boolean },
): Promise<Outcome> {
  const response = await asConsumers(endpoints, ref.service, 'getDeadLetterSequence', { id: ref.id });
  return shown(json, consumersV1.GetDeadLetterSequenceResponse.toJSON(response), () =>
    formatSequence(ref, response),
  );
}

function formatSequence(ref: SequenceRef, response: consumersV1.GetDeadLetterSequenceResponse): string {
  const [head, ...parked] = response.messages;
  if (!head) return 'the service returned no dead letter';
  const fields = renderFields([
    ['id', `${ref.service}/${head.id}`],
    ['consumer', head.consumer],
    ['key', head.sequenceKey],
    ['state', head.state],
    ['event', `${head.eventType || head.subject} ${head.eventId}`.trim()],
    ['position', `${head.stream} #${head.streamSequence}`],
    ['deliveries', String(head.deliveries)],
    ['since', head.parkedAt?.toISOString() ?? ''],
    ['reason', head.reason],
    ['parked behind', String(response.total - 1)],
  ]);
  if (parked.length === 0) return fields;
  const table = renderTable(
    ['ID', 'EVENT', 'EVENT ID', 'POSITION', 'PARKED AT'],
    parked.map((m) => [
      `${ref.service}/${m.id}`,
      m.eventType || m.subject,
      m.eventId,
      `${m.stream} #${m.streamSequence}`,
      m.parkedAt?.toISOString() ?? '',
    ]),
  );
  const more =
    response.total - 1 > parked.length ? `\n(the first ${parked.length} of ${response.total - 1})` : '';
  return `${fields}\n\n${table}${more}`;
}

/** `dead-letters redrive` and `dead-letters discard` (with --yes). */
export async function releaseSequence(
  endpoints: Endpoints,
  command: {
    kind: 'dead-letters redrive' | 'dead-letters discard';
    ref: SequenceRef;
    yes?: boolean;
    json: boolean;
  },
): Promise<Outcome> {
  const { ref } = command;
  if (command.kind === 'dead-letters discard' && !command.yes) {
    throw new UsageError(
      `dead-letters discard drops ${ref.service}/${ref.id} without applying it (it cannot be undone); run it again with --yes`,
    );
  }
  const redrive = command.kind === 'dead-letters redrive';
  const response = redrive
    ? await asConsumers(endpoints, ref.service, 'redriveDeadLetterSequence', { id: ref.id }, 120_000)
    : await asConsumers(endpoints, ref.service, 'discardDeadLetter', { id: ref.id, confirm: true }, 120_000);
  if (command.json) return { text: JSON.stringify(response, null, 2) };
  const lines = [
    `${redrive ? 'redrove' : 'discarded'} ${ref.service}/${ref.id}: ${response.applied} event(s) applied in order`,
  ];
  if (response.deadAgainId) {
    lines.push(
      `${ref.service}/${response.deadAgainId} failed again and now heads the sequence: ${response.deadAgainReason}`,
    );
  }
  if (response.continuing) lines.push('more than 1000 were parked: the rest are applied in the background');
  return { text: lines.join('\n') };
}
