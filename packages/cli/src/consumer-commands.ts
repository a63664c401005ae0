import * as consumersV1 from '@conveyor/contracts/grpc/consumers';
import type { Endpoints } from './addresses.ts';
import { CliError, type Outcome, shown, UsageError } from './cli-error.ts';
import { type ConsumerRef, type ConsumingService, consuming } from './option-values.ts';
import { asConsumers } from './service-calls.ts';
import { renderFields, renderTable } from './table.ts';

type ControlCommand = { ref: ConsumerRef; json: boolean } & (
  | { kind: 'consumers pause'; reason?: string }
  | { kind: 'consumers resume' }
  | { kind: 'consumers reset'; to: { sequence: number } | { time: Date }; yes: boolean }
);

/** `consumers pause`, `resume` and `reset` (with --yes): the consumer after it. */
export async function controlConsumer(endpoints: Endpoints, command: ControlCommand): Promise<Outcome> {
  const { ref } = command;
  const name = `${ref.service}/${ref.stream}/${ref.durable}`;
  if (command.kind === 'consumers reset' && !command.yes) {
    throw new UsageError(
      `consumers reset replaces ${name}'s position (it cannot be undone; the inbox keeps effects once); run it again with --yes`,
    );
  }
  const { consumer } = await control(endpoints, command);
  if (!consumer) throw new CliError(`the ${ref.service} service answered without the consumer`);
  const said = {
    'consumers pause': `paused ${name}: replicas stop pulling within a second; events wait in ${ref.stream}`,
    'consumers resume': `resumed ${name}`,
    'consumers reset': `reset ${name} to start at ${consumer.startsAt}; it stays paused: consumers resume ${name} replays`,
  }[command.kind];
  return shown(
    command.json,
    consumersV1.Consumer.toJSON(consumer),
    () => `${said}\n\n${fields(ref.service, consumer)}`,
  );
}

/** The call `command` asks for; each answers with the consumer after it. */
function control(endpoints: Endpoints, command: ControlCommand) {
  const { service, stream, durable } = command.ref;
  switch (command.kind) {
    case 'consumers pause':
      return asConsumers(endpoints, service, 'pauseConsumer', {
        stream,
        durable,
        reason: command.reason ?? '',
      });
    case 'consumers resume':
      return asConsumers(endpoints, service, 'resumeConsumer', { stream, durable });
    case 'consumers reset': {
      const { to } = command;
      const startSequence = 'sequence' in to ? to.sequence : 0;
      const startTime = 'time' in to ? to.time : undefined;
      const request = { stream, durable, startSequence, startTime, confirm: true };
      return asConsumers(endpoints, service, 'resetConsumer', request, 30_000);
    }
  }
}

export async function listConsumers(
  endpoints: Endpoints,
  { service: only, json }: { service?: ConsumingService; json: boolean },
): Promise<Outcome> {
  const rows: { service: ConsumingService; consumer: consumersV1.Consumer }[] = [];
  for (const service of only ? [only] : consuming) {
    const response = await asConsumers(endpoints, service, 'listConsumers', {});
    rows.push(...response.consumers.map((consumer) => ({ service, consumer })));
  }
  const asJson = rows.map((r) => ({
    service: r.service,
    ...(consumersV1.Consumer.toJSON(r.consumer) as object),
  }));
  return shown(json, asJson, () =>
    renderTable(
      ['CONSUMER', 'STATE', 'LAG', 'PENDING', 'ACK PENDING', 'REDELIVERED', 'REPLICAS', 'CHANGED'],
      rows.map(({ service, consumer: c }) => [
        `${service}/${c.stream}/${c.durable}`,
        c.paused ? 'paused' : 'running',
        String(c.lag),
        String(c.pending),
        String(c.ackPending),
        String(c.redelivered),
        replicas(c),
        changed(c),
      ]),
    ),
  );
}

function replicas(c: consumersV1.Consumer): string {
  const obeying = c.replicas.filter((r) => r.current && r.paused === c.paused).length;
  return `${obeying}/${c.replicas.length} ${c.paused ? 'paused' : 'running'}`;
}

function changed(c: consumersV1.Consumer): string {
  if (!c.changedAt) return '';
  const reason = c.reason ? ` (${c.reason})` : '';
  return `${c.changedAt.toISOString()} by ${c.changedBy}${reason}`;
}

function fields(service: ConsumingService, c: consumersV1.Consumer): string {
  return renderFields([
    ['consumer', `${service}/${c.stream}/${c.durable}`],
    ['state', c.paused ? 'paused' : 'running'],
    ['changed', changed(c)],
    ['lag', `${c.lag} (${c.pending} pending, ${c.ackPending} unacknowledged, ${c.redelivered} redelivered)`],
    [
      'position',
      `delivered #${c.deliveredSequence}, acknowledged to #${c.ackFloorSequence} of #${c.streamLastSequence}`,
    ],
    ['starts at', c.startsAt],
    ['last reset', c.lastReset || 'never'],
    [
      'replicas',
      c.replicas
        .map((r) => `${r.replica} ${r.paused ? 'paused' : 'running'}${r.current ? '' : ' (catching up)'}`)
        .join(', ') || 'none seen lately',
    ],
  ]);
}
