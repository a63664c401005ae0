import { parseArgs } from 'node:util';
import { common, isHelp, noPositionals, onePositional, parse, parseLimit } from './arg-helpers.ts';
import { UsageError } from './cli-error.ts';

/** Dead letters to act on: one id, every one, or a filter (original subject and/or reason text). */
export type DlqSelection =
  | { id: string }
  | { all: true }
  | { subject: string | undefined; reasonContains: string | undefined };

export type DlqCommand =
  | {
      kind: 'dlq list';
      subject: string | undefined;
      reasonContains: string | undefined;
      limit: number | undefined;
      after: string | undefined;
      json: boolean;
    }
  | { kind: 'dlq show'; id: string; json: boolean }
  | { kind: 'dlq redrive'; selection: DlqSelection; limit: number | undefined; json: boolean }
  | { kind: 'dlq purge'; selection: DlqSelection; json: boolean };

export type WebhooksCommand =
  | { kind: 'webhooks register'; userId: string | undefined; global: boolean; url: string; json: boolean }
  | { kind: 'webhooks list'; userId: string | undefined; limit: number | undefined; json: boolean }
  | { kind: 'webhooks delete'; id: string; json: boolean }
  | {
      kind: 'webhooks sink';
      answer: 'accept' | 'refuse' | 'fail' | undefined;
      limit: number | undefined;
      json: boolean;
    };

type Help = { kind: 'help'; topic: string };

const filterOptions = {
  ...common,
  subject: { type: 'string' },
  reason: { type: 'string' },
} as const;

function selectionOf(
  command: string,
  positionals: string[],
  values: { all?: boolean; subject?: string; reason?: string },
): DlqSelection {
  const [id, extra] = positionals;
  if (extra !== undefined) throw new UsageError(`${command}: unexpected argument ${JSON.stringify(extra)}`);
  const filtered = values.subject !== undefined || values.reason !== undefined;
  if (id !== undefined) {
    if (filtered || values.all)
      throw new UsageError(`${command}: give an id, or --all / --subject / --reason`);
    return { id };
  }
  if (values.all) {
    if (filtered) throw new UsageError(`${command}: --all cannot be combined with --subject or --reason`);
    return { all: true };
  }
  if (!filtered) throw new UsageError(`${command} needs a dead letter id, --all, --subject or --reason`);
  return { subject: values.subject, reasonContains: values.reason };
}

function parseTotal(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 10_000) {
    throw new UsageError(`--limit must be a whole number from 1 to 10000, not ${JSON.stringify(raw)}`);
  }
  return n;
}

/** `dlq list|show|redrive|purge`: the notification consumer's dead letters. */
export function parseDlq(sub: string | undefined, args: string[]): DlqCommand | Help {
  const help: Help = { kind: 'help', topic: 'dlq' };
  if (isHelp(sub)) return help;
  switch (sub) {
    case 'list': {
      const { values, positionals } = parse(() =>
        parseArgs({
          args,
          options: { ...filterOptions, limit: { type: 'string' }, after: { type: 'string' } },
          allowPositionals: true,
          strict: true,
        }),
      );
      if (values.help) return help;
      noPositionals('dlq list', positionals);
      return {
        kind: 'dlq list',
        subject: values.subject,
        reasonContains: values.reason,
        limit: parseLimit(values.limit),
        after: values.after,
        json: values.json === true,
      };
    }
    case 'show': {
      const { values, positionals } = parse(() =>
        parseArgs({ args, options: common, allowPositionals: true, strict: true }),
      );
      if (values.help) return help;
      return {
        kind: 'dlq show',
        id: onePositional('dlq show', 'a dead letter id', positionals),
        json: values.json === true,
      };
    }
    case 'redrive': {
      const { values, positionals } = parse(() =>
        parseArgs({
          args,
          options: { ...filterOptions, all: { type: 'boolean' }, limit: { type: 'string' } },
          allowPositionals: true,
          strict: true,
        }),
      );
      if (values.help) return help;
      return {
        kind: 'dlq redrive',
        selection: selectionOf('dlq redrive', positionals, values),
        limit: parseTotal(values.limit),
        json: values.json === true,
      };
    }
    case 'purge': {
      const { values, positionals } = parse(() =>
        parseArgs({
          args,
          options: { ...filterOptions, all: { type: 'boolean' } },
          allowPositionals: true,
          strict: true,
        }),
      );
      if (values.help) return help;
      return {
        kind: 'dlq purge',
        selection: selectionOf('dlq purge', positionals, values),
        json: values.json === true,
      };
    }
    default:
      throw new UsageError(`unknown command: dlq ${sub}`);
  }
}

/** `webhooks register|list|delete|sink`. */
export function parseWebhooks(sub: string | undefined, args: string[]): WebhooksCommand | Help {
  const help: Help = { kind: 'help', topic: 'webhooks' };
  if (isHelp(sub)) return help;
  switch (sub) {
    case 'register': {
      const { values, positionals } = parse(() =>
        parseArgs({
          args,
          options: {
            ...common,
            user: { type: 'string' },
            global: { type: 'boolean' },
            url: { type: 'string' },
          },
          allowPositionals: true,
          strict: true,
        }),
      );
      if (values.help) return help;
      noPositionals('webhooks register', positionals);
      if ((values.user === undefined) === (values.global !== true)) {
        throw new UsageError('webhooks register needs either --user ID or --global');
      }
      if (values.url === undefined) throw new UsageError('webhooks register needs --url');
      return {
        kind: 'webhooks register',
        userId: values.user,
        global: values.global === true,
        url: values.url,
        json: values.json === true,
      };
    }
    case 'list': {
      const { values, positionals } = parse(() =>
        parseArgs({
          args,
          options: { ...common, user: { type: 'string' }, limit: { type: 'string' } },
          allowPositionals: true,
          strict: true,
        }),
      );
      if (values.help) return help;
      noPositionals('webhooks list', positionals);
      return {
        kind: 'webhooks list',
        userId: values.user,
        limit: parseLimit(values.limit),
        json: values.json === true,
      };
    }
    case 'delete': {
      const { values, positionals } = parse(() =>
        parseArgs({ args, options: common, allowPositionals: true, strict: true }),
      );
      if (values.help) return help;
      return {
        kind: 'webhooks delete',
        id: onePositional('webhooks delete', 'a webhook id', positionals),
        json: values.json === true,
      };
    }
    case 'sink': {
      const { values, positionals } = parse(() =>
        parseArgs({
          args,
          options: {
            ...common,
            accept: { type: 'boolean' },
            refuse: { type: 'boolean' },
            fail: { type: 'boolean' },
            limit: { type: 'string' },
          },
          allowPositionals: true,
          strict: true,
        }),
      );
      if (values.help) return help;
      noPositionals('webhooks sink', positionals);
      const answers = (['accept', 'refuse', 'fail'] as const).filter((answer) => values[answer] === true);
      if (answers.length > 1) throw new UsageError('webhooks sink takes one of --accept, --refuse, --fail');
      return {
        kind: 'webhooks sink',
        answer: answers[0],
        limit: parseLimit(values.limit),
        json: values.json === true,
      };
    }
    default:
      throw new UsageError(`unknown command: webhooks ${sub}`);
  }
}
