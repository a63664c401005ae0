import { Option } from 'commander';
import { UsageError } from './cli-error.ts';

/** The services that consume events and serve ConsumerService. */
export const consuming = ['orders', 'notifications'] as const;
export type ConsumingService = (typeof consuming)[number];

/** A sequenced dead letter as the operator names it: `orders/12`, `notifications/3`. */
export interface SequenceRef {
  service: ConsumingService;
  id: string;
}

/** A durable consumer as the operator names it: `notifications/ORDERS/notifications`. */
export interface ConsumerRef {
  service: ConsumingService;
  stream: string;
  durable: string;
}

/** Dead letters to act on: one id, every one, or a filter (original subject and/or reason text). */
export type DlqSelection =
  | { id: string }
  | { all: true }
  | { subject: string | undefined; reason: string | undefined };

/**
 * A parser for `option`: a whole number from `min` to `max`; without `max`, any from `min` that
 * is exact in a double (an event store or log position: `--from`, `--to`).
 */
export function wholeNumber(option: string, min: number, max?: number): (raw: string) => number {
  return (raw) => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > (max ?? Number.MAX_SAFE_INTEGER)) {
      const range = max === undefined ? '' : ` from ${min} to ${max}`;
      throw new UsageError(
        `${option} must be a whole number${range}, not ${JSON.stringify(raw.slice(0, 40))}`,
      );
    }
    return n;
  };
}

const limit = wholeNumber('--limit', 1, 500);

/** `--limit N` of a list: at most N rows, 1 to 500. */
export const limitOption = (): Option => new Option('--limit <N>', 'at most N (1-500)').argParser(limit);

export function serviceOf(raw: string): ConsumingService {
  if ((consuming as readonly string[]).includes(raw)) return raw as ConsumingService;
  throw new UsageError(
    `--service must be one of ${consuming.join(', ')}, not ${JSON.stringify(raw.slice(0, 40))}`,
  );
}

export function sequenceRef(raw: string): SequenceRef {
  const match = /^([a-z]+)\/([1-9][0-9]{0,17})$/.exec(raw);
  if (!match) throw new UsageError(`${JSON.stringify(raw.slice(0, 40))} is not an id such as orders/12`);
  return { service: serviceOf(match[1] as string), id: match[2] as string };
}

export function consumerRef(raw: string): ConsumerRef {
  const match = /^([a-z]+)\/([A-Za-z0-9_-]{1,64})\/([A-Za-z0-9_-]{1,64})$/.exec(raw);
  if (!match) {
    throw new UsageError(
      `${JSON.stringify(raw.slice(0, 60))} is not a consumer such as notifications/ORDERS/notifications (see consumers list)`,
    );
  }
  return { service: serviceOf(match[1] as string), stream: match[2] as string, durable: match[3] as string };
}

/** `consumers pause --reason`: trimmed, at most 200 characters. */
export function pauseReason(raw: string): string {
  const reason = raw.trim();
  if ([...reason].length > 200) throw new UsageError('--reason: at most 200 characters');
  return reason;
}

export function streamSequence(raw: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(raw))
    throw new UsageError(
      `--to-sequence must be a stream sequence from 1, not ${JSON.stringify(raw.slice(0, 40))}`,
    );
  return Number(raw);
}

type DlqValues = { id?: string; all?: boolean; subject?: string; reason?: string; limit?: number };

/** `dlq redrive|purge`: exactly one of an id, --all and a filter; the --limit of redrive. */
export function dlqRequest(command: string) {
  return ({ id, all, subject, reason, limit }: DlqValues): { selection: DlqSelection; limit?: number } => {
    const filtered = subject !== undefined || reason !== undefined;
    if (id !== undefined) {
      if (filtered || all) throw new UsageError(`${command}: give an id, or --all / --subject / --reason`);
      return { selection: { id }, limit };
    }
    if (all) {
      if (filtered) throw new UsageError(`${command}: --all cannot be combined with --subject or --reason`);
      return { selection: { all: true }, limit };
    }
    if (!filtered) throw new UsageError(`${command} needs a dead letter id, --all, --subject or --reason`);
    return { selection: { subject, reason }, limit };
  };
}

type ResetValues = { ref: ConsumerRef; toSequence?: number; toTime?: Date; yes?: boolean };

/** `consumers reset`: exactly one of --to-sequence and --to-time. */
export function resetRequest({ ref, toSequence, toTime, yes }: ResetValues) {
  if ((toSequence === undefined) === (toTime === undefined))
    throw new UsageError('consumers reset needs exactly one of --to-sequence N and --to-time ISO-8601');
  const to = toTime === undefined ? { sequence: toSequence } : { time: toTime };
  return { ref, to, yes: yes === true };
}
