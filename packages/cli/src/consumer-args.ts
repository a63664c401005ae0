import { parseArgs } from 'node:util';
import { common, isHelp, noPositionals, onePositional, parse } from './arg-helpers.ts';
import { UsageError } from './cli-error.ts';
import { parseInstant } from './order-values.ts';
import { type ConsumingService, serviceOf } from './sequence-args.ts';

/** A durable consumer as the operator names it: `notifications/ORDERS/notifications`. */
export interface ConsumerRef {
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
