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

/** A parser for `option`: a whole number from `min` to `max`. */
export function wholeNumber(option: string, min: number, max: number): (raw: string) => number {
  return (raw) => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max)
      throw new UsageError(
        `${option} must be a whole number from ${min} to ${max}, not ${JSON.stringify(raw)}`,
      );
    return n;
  };
}

export const limit = wholeNumber('--limit', 1, 500);

/** An event store or log position (`--from`, `--to`): a whole number. */
export function position(option: string): (raw: string) => number {
  return (raw) => {
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw)))
      throw new UsageError(`${option} must be a whole number, not ${JSON.stringify(raw)}`);
    return Number(raw);
  };
}

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

/** `dlq redrive|purge`: exactly one of an id, --all and a filter. */
export function dlqSelection(
  command: string,
  values: { id?: string; all?: boolean; subject?: string; reason?: string },
): DlqSelection {
  const filtered = values.subject !== undefined || values.reason !== undefined;
  if (values.id !== undefined) {
    if (filtered || values.all)
      throw new UsageError(`${command}: give an id, or --all / --subject / --reason`);
    return { id: values.id };
  }
  if (values.all) {
    if (filtered) throw new UsageError(`${command}: --all cannot be combined with --subject or --reason`);
    return { all: true };
  }
  if (!filtered) throw new UsageError(`${command} needs a dead letter id, --all, --subject or --reason`);
  return { subject: values.subject, reason: values.reason };
}
