import { parseArgs } from 'node:util';
import { common, isHelp, noPositionals, onePositional, parse } from './arg-helpers.ts';
import { UsageError } from './cli-error.ts';

/** The services that consume events and serve ConsumerService. */
export const consuming = ['orders', 'notifications'] as const;
export type ConsumingService = (typeof consuming)[number];

/** A dead letter as the operator names it: `orders/12`, `notifications/3`. */
export interface SequenceRef {
  service: ConsumingService;
  id: string;
}

export type SequencesCommand =
  | { kind: 'dead-letters list'; service: ConsumingService | undefined; json: boolean }
  | { kind: 'dead-letters show'; ref: SequenceRef; json: boolean }
  | { kind: 'dead-letters redrive'; ref: SequenceRef; json: boolean }
  | { kind: 'dead-letters discard'; ref: SequenceRef; yes: boolean; json: boolean };

type Help = { kind: 'help'; topic: string };

export function serviceOf(raw: string): ConsumingService {
  if ((consuming as readonly string[]).includes(raw)) return raw as ConsumingService;
  throw new UsageError(
    `--service must be one of ${consuming.join(', ')}, not ${JSON.stringify(raw.slice(0, 40))}`,
  );
}

function refOf(command: string, positionals: string[]): SequenceRef {
  const raw = onePositional(command, 'a dead letter id such as orders/12', positionals);
  const match = /^([a-z]+)\/([1-9][0-9]{0,17})$/.exec(raw);
  if (!match)
    throw new UsageError(`${command}: ${JSON.stringify(raw.slice(0, 40))} is not an id such as orders/12`);
  return { service: serviceOf(match[1] as string), id: match[2] as string };
}

/** `dead-letters list|show|redrive|discard`: every consumer's sequenced dead letters (ADR 0031). */
export function parseSequences(sub: string | undefined, args: string[]): SequencesCommand | Help {
  const help: Help = { kind: 'help', topic: 'dead-letters' };
  if (isHelp(sub)) return help;
  const options = { ...common, service: { type: 'string' }, yes: { type: 'boolean' } } as const;
  const { values, positionals } = parse(() =>
    parseArgs({ args, options, allowPositionals: true, strict: true }),
  );
  if (values.help) return help;
  const json = values.json === true;
  if (sub !== 'list' && values.service !== undefined)
    throw new UsageError(`dead-letters ${sub}: the id names its service (orders/12)`);
  if (sub !== 'discard' && values.yes) throw new UsageError(`dead-letters ${sub}: --yes is for discard`);
  switch (sub) {
    case 'list':
      noPositionals('dead-letters list', positionals);
      return {
        kind: 'dead-letters list',
        service: values.service === undefined ? undefined : serviceOf(values.service),
        json,
      };
    case 'show':
    case 'redrive':
      return { kind: `dead-letters ${sub}`, ref: refOf(`dead-letters ${sub}`, positionals), json };
    case 'discard':
      return {
        kind: 'dead-letters discard',
        ref: refOf('dead-letters discard', positionals),
        yes: values.yes === true,
        json,
      };
    default:
      throw new UsageError(`unknown command: dead-letters ${sub}`);
  }
}
