import { parseArgs } from 'node:util';
import { common, isHelp, noPositionals, parse, parseLimit } from './arg-helpers.ts';
import { UsageError } from './cli-error.ts';
import { type ConsumingService, serviceOf } from './sequence-args.ts';

export type TimersCommand = {
  kind: 'timers list';
  service: ConsumingService | undefined;
  limit: number | undefined;
  json: boolean;
};

type Help = { kind: 'help'; topic: string };

/** `timers list`: the durable timers due soonest (ADR 0032). */
export function parseTimers(sub: string | undefined, args: string[]): TimersCommand | Help {
  const help: Help = { kind: 'help', topic: 'timers' };
  if (isHelp(sub)) return help;
  if (sub !== 'list') throw new UsageError(`unknown command: timers ${sub}`);
  const { values, positionals } = parse(() =>
    parseArgs({
      args,
      options: { ...common, service: { type: 'string' }, limit: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    }),
  );
  if (values.help) return help;
  noPositionals('timers list', positionals);
  return {
    kind: 'timers list',
    service: values.service === undefined ? undefined : serviceOf(values.service),
    limit: parseLimit(values.limit),
    json: values.json === true,
  };
}
