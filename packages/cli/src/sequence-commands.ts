import { consumersV1 } from '@conveyor/contracts/grpc';
import { callUnary } from '@conveyor/platform/grpc-client';
import type { Endpoints } from './addresses.ts';
import { type Outcome, UsageError } from './cli-error.ts';
import { DEADLINE_MS } from './grpc-clients.ts';
import { withConsumers } from './grpc-failure.ts';
import { type ConsumingService, consuming, type SequenceRef } from './option-values.ts';
import { renderFields, renderTable } from './table.ts';

export type SequencesCommand =
  | { kind: 'dead-letters list'; service?: ConsumingService; json: boolean }
  | { kind: 'dead-letters show'; ref: SequenceRef; json: boolean }
  | { kind: 'dead-letters redrive' | 'dead-letters discard'; ref: SequenceRef; yes?: boolean; json: boolean };

export async function runSequences(endpoints: Endpoints, command: SequencesCommand): Promise<Outcome> {
  switch (command.kind) {
    case 'dead-letters list':
      return listSequences(endpoints, command.service, command.json);
    case 'dead-letters show':
      return showSequence(endpoints, command.ref, command.json);
    case 'dead-letters redrive':
    case 'dead-letters discard':
      return release(endpoints, command);
  }
}

async function listSequences(
  endpoints: Endpoints,
  only: ConsumingService | undefined,
  json: boolean,
): Promise<Outcome> {
  const rows: { service: ConsumingService; sequence: consumersV1.DeadLetterSequence }[] = [];
  let more = false;
  for (const service of only ? [only] : consuming) {
    const response = await withConsumers(endpoints, service, (client) =>
      callUnary(
        client,
        client.listDeadLetterSequences,
        { consumer: '', pageSize: 500, pageToken: '' },
        { deadlineMs: DEADLINE_MS },
      ),
    );
    rows.push(...response.sequences.map((sequence) => ({ service, sequence })));
    more ||= response.nextPageToken !== '';
  }
  if (json) {
    return {
      text: JSON.stringify(
        rows.map((r) => ({
          service: r.service,
          ...(consumersV1.DeadLetterSequence.toJSON(r.sequence) as object),
        })),
        null,
        2,
      ),
    };
  }
  if (rows.length === 0) return { text: 'no dead letters: every key flows' };
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
  return { text: more ? `${table}\n\n(500 per service shown; more wait)` : table };
}

async function showSequence(endpoints: Endpoints, ref: SequenceRef, json: boolean): Promise<Outcome> {
  const response = await withConsumers(endpoints, ref.service, (client) =>
    callUnary(client, client.getDeadLetterSequence, { id: ref.id }, { deadlineMs: DEADLINE_MS }),
  );
  if (json)
    return { text: JSON.stringify(consumersV1.GetDeadLetterSequenceResponse.toJSON(response), null, 2) };
  const [head, ...parked] = response.messages;
  if (!head) return { text: 'the service returned no dead letter' };
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
  if (parked.length === 0) return { text: fields };
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
  const shown =
    response.total - 1 > parked.length ? `\n(the first ${parked.length} of ${response.total - 1})` : '';
  return { text: `${fields}\n\n${table}${shown}` };
}

async function release(
  endpoints: Endpoints,
  command: Extract<SequencesCommand, { kind: 'dead-letters redrive' | 'dead-letters discard' }>,
): Promise<Outcome> {
  const { ref } = command;
  if (command.kind === 'dead-letters discard' && !command.yes) {
    throw new UsageError(
      `dead-letters discard drops ${ref.service}/${ref.id} without applying it (it cannot be undone); run it again with --yes`,
    );
  }
  const response = await withConsumers(endpoints, ref.service, (client) =>
    command.kind === 'dead-letters redrive'
      ? callUnary(client, client.redriveDeadLetterSequence, { id: ref.id }, { deadlineMs: 120_000 })
      : callUnary(client, client.discardDeadLetter, { id: ref.id, confirm: true }, { deadlineMs: 120_000 }),
  );
  if (command.json) return { text: JSON.stringify(response, null, 2) };
  const verb = command.kind === 'dead-letters redrive' ? 'redrove' : 'discarded';
  const lines = [`${verb} ${ref.service}/${ref.id}: ${response.applied} event(s) applied in order`];
  if (response.deadAgainId) {
    lines.push(
      `${ref.service}/${response.deadAgainId} failed again and now heads the sequence: ${response.deadAgainReason}`,
    );
  }
  if (response.continuing) lines.push('more than 1000 were parked: the rest are applied in the background');
  return { text: lines.join('\n') };
}
