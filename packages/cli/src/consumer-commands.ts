import { parseArgs } from 'node:util';
import { consumersV1 } from '@conveyor/contracts/grpc';
import { callUnary } from '@conveyor/platform';
import type { Endpoints } from './addresses.ts';
import { common, isHelp, noPositionals, onePositional, parse } from './arg-helpers.ts';
import { CliError, type Outcome, UsageError } from './cli-error.ts';
import { DEADLINE_MS } from './grpc-clients.ts';
import { parseInstant } from './order-values.ts';
import { type ConsumingService, consuming, serviceOf, withConsumers } from './sequence-commands.ts';
import { renderFields, renderTable } from './table.ts';

/** A durable consumer as the operator names it: `notifications/ORDERS/notifications`. */
interface ConsumerRef {
  service: ConsumingService;
  stream: string;
  durable: string;
}

export type ConsumersCommand =
  | { kind: 'consumers list'; service: ConsumingService | undefined; json: boolean }
  | { kind: 'consumers pause'; ref: ConsumerRef; reason: string; json: boolean }
  | { kind: 'consumers resume'; ref: ConsumerRef; json: boolean }
  | {
      kind: 'consumers reset';
      ref: ConsumerRef;
      to: { sequence: number } | { time: Date };
      yes: boolean;
      json: boolean;
    };

type Help = { kind: 'help'; topic: string };

function refOf(command: string, positionals: string[]): ConsumerRef {
  const raw = onePositional(command, 'a consumer such as notifications/ORDERS/notifications', positionals);
  const match = /^([a-z]+)\/([A-Za-z0-9_-]{1,64})\/([A-Za-z0-9_-]{1,64})$/.exec(raw);
  if (!match) {
    throw new UsageError(
      `${command}: ${JSON.stringify(raw.slice(0, 60))} is not a consumer such as notifications/ORDERS/notifications (see consumers list)`,
    );
  }
  return { service: serviceOf(match[1] as string), stream: match[2] as string, durable: match[3] as string };
}

/** `consumers list|pause|resume|reset` (ADR 0033). */
export function parseConsumers(sub: string | undefined, args: string[]): ConsumersCommand | Help {
  const help: Help = { kind: 'help', topic: 'consumers' };
  if (isHelp(sub)) return help;
  const options = {
    ...common,
    service: { type: 'string' },
    reason: { type: 'string' },
    'to-sequence': { type: 'string' },
    'to-time': { type: 'string' },
    yes: { type: 'boolean' },
  } as const;
  const { values, positionals } = parse(() =>
    parseArgs({ args, options, allowPositionals: true, strict: true }),
  );
  if (values.help) return help;
  const json = values.json === true;
  const only = (option: keyof typeof values, allowed: string) => {
    if (values[option] !== undefined && sub !== allowed)
      throw new UsageError(`consumers ${sub}: --${option} is for consumers ${allowed}`);
  };
  only('service', 'list');
  only('reason', 'pause');
  only('to-sequence', 'reset');
  only('to-time', 'reset');
  only('yes', 'reset');
  switch (sub) {
    case 'list':
      noPositionals('consumers list', positionals);
      return {
        kind: 'consumers list',
        service: values.service === undefined ? undefined : serviceOf(values.service),
        json,
      };
    case 'pause': {
      const reason = (values.reason ?? '').trim();
      if ([...reason].length > 200) throw new UsageError('--reason: at most 200 characters');
      return { kind: 'consumers pause', ref: refOf('consumers pause', positionals), reason, json };
    }
    case 'resume':
      return { kind: 'consumers resume', ref: refOf('consumers resume', positionals), json };
    case 'reset': {
      const ref = refOf('consumers reset', positionals);
      const sequence = values['to-sequence'];
      const time = values['to-time'];
      if ((sequence === undefined) === (time === undefined))
        throw new UsageError('consumers reset needs exactly one of --to-sequence N and --to-time ISO-8601');
      let to: { sequence: number } | { time: Date };
      if (sequence !== undefined) {
        if (!/^[1-9][0-9]{0,15}$/.test(sequence))
          throw new UsageError(
            `--to-sequence must be a stream sequence from 1, not ${JSON.stringify(sequence.slice(0, 40))}`,
          );
        to = { sequence: Number(sequence) };
      } else {
        to = { time: parseInstant(time ?? '', { option: '--to-time', edge: 'start' }) };
      }
      return { kind: 'consumers reset', ref, to, yes: values.yes === true, json };
    }
    default:
      throw new UsageError(`unknown command: consumers ${sub}`);
  }
}

export async function runConsumers(endpoints: Endpoints, command: ConsumersCommand): Promise<Outcome> {
  if (command.kind === 'consumers list') return list(endpoints, command.service, command.json);
  const { ref } = command;
  const name = `${ref.service}/${ref.stream}/${ref.durable}`;
  if (command.kind === 'consumers reset' && !command.yes) {
    throw new UsageError(
      `consumers reset replaces ${name}'s position (it cannot be undone; the inbox keeps effects once); run it again with --yes`,
    );
  }
  const target = { stream: ref.stream, durable: ref.durable };
  const { consumer } = await withConsumers(endpoints, ref.service, (client) => {
    switch (command.kind) {
      case 'consumers pause':
        return callUnary(
          client,
          client.pauseConsumer,
          { ...target, reason: command.reason },
          { deadlineMs: DEADLINE_MS },
        );
      case 'consumers resume':
        return callUnary(client, client.resumeConsumer, target, { deadlineMs: DEADLINE_MS });
      case 'consumers reset':
        return callUnary(
          client,
          client.resetConsumer,
          {
            ...target,
            startSequence: 'sequence' in command.to ? command.to.sequence : 0,
            startTime: 'time' in command.to ? command.to.time : undefined,
            confirm: true,
          },
          { deadlineMs: 30_000 },
        );
    }
  });
  if (!consumer) throw new CliError(`the ${ref.service} service answered without the consumer`);
  if (command.json) return { text: JSON.stringify(consumersV1.Consumer.toJSON(consumer), null, 2) };
  const said = {
    'consumers pause': `paused ${name}: replicas stop pulling within a second; events wait in ${ref.stream}`,
    'consumers resume': `resumed ${name}`,
    'consumers reset': `reset ${name} to start at ${consumer.startsAt}; it stays paused: consumers resume ${name} replays`,
  }[command.kind];
  return { text: `${said}\n\n${fields(ref.service, consumer)}` };
}

async function list(
  endpoints: Endpoints,
  only: ConsumingService | undefined,
  json: boolean,
): Promise<Outcome> {
  const rows: { service: ConsumingService; consumer: consumersV1.Consumer }[] = [];
  for (const service of only ? [only] : consuming) {
    const response = await withConsumers(endpoints, service, (client) =>
      callUnary(client, client.listConsumers, {}, { deadlineMs: DEADLINE_MS }),
    );
    rows.push(...response.consumers.map((consumer) => ({ service, consumer })));
  }
  if (json) {
    return {
      text: JSON.stringify(
        rows.map((r) => ({ service: r.service, ...(consumersV1.Consumer.toJSON(r.consumer) as object) })),
        null,
        2,
      ),
    };
  }
  return {
    text: renderTable(
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
  };
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
