import { parseArgs } from 'node:util';
import { common, noPositionals, parse, parseLimit } from './arg-helpers.ts';
import { UsageError } from './cli-error.ts';
import { type ConsumersCommand, parseConsumers } from './consumer-args.ts';
import { type DlqCommand, parseDlq, parseWebhooks, type WebhooksCommand } from './dlq-args.ts';
import { type OrdersCommand, parseOrders, parseProjections, positionArg } from './orders-args.ts';
import { parseSequences, type SequencesCommand } from './sequence-args.ts';
import { parseTimers, type TimersCommand } from './timer-args.ts';
import { helpTopics } from './usage.ts';

export type Command =
  | { kind: 'help'; topic: string | undefined }
  | { kind: 'users create'; email: string; name: string; password: string; json: boolean }
  | { kind: 'login'; email: string; password: string; json: boolean }
  | { kind: 'logout'; json: boolean }
  | { kind: 'users get'; id: string; json: boolean }
  | { kind: 'users grant-role' | 'users revoke-role'; id: string; json: boolean }
  | { kind: 'users change-password'; current: string; next: string; json: boolean }
  | { kind: 'users request-reset'; email: string; json: boolean }
  | { kind: 'users reset-password'; token: string; password: string; json: boolean }
  | { kind: 'users republish'; from: number; to: number; json: boolean }
  | {
      kind: 'users bootstrap-admin';
      email: string;
      name: string;
      password: string;
      databaseUrl: string | undefined;
      json: boolean;
    }
  | { kind: 'notifications list'; userId: string | undefined; limit: number | undefined; json: boolean }
  | { kind: 'products list'; limit: number | undefined; json: boolean }
  | { kind: 'products get'; sku: string; json: boolean }
  | { kind: 'mail'; json: boolean }
  | { kind: 'status'; json: boolean }
  | OrdersCommand
  | DlqCommand
  | SequencesCommand
  | ConsumersCommand
  | TimersCommand
  | WebhooksCommand;

/**
 * The string options of `users <sub>` (plus --json, --help), no positional: `required` ones named in
 * one usage error when missing ("needs --a, --b and --c"), `optional` ones as given. undefined for
 * --help.
 */
function userFlags<R extends string, O extends string = never>(
  sub: string,
  args: string[],
  required: readonly R[],
  optional: readonly O[] = [],
): { values: Record<R, string> & Partial<Record<O, string>>; json: boolean } | undefined {
  const names: string[] = [...required, ...optional];
  const { values, positionals } = parse(() =>
    parseArgs({
      args,
      options: { ...common, ...Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])) },
      allowPositionals: true,
      strict: true,
    }),
  );
  if (values.help) return undefined;
  noPositionals(`users ${sub}`, positionals);
  const strings = values as Record<string, string | undefined>;
  if (required.some((n) => strings[n] === undefined)) {
    const flags = required.map((n) => `--${n}`);
    const list = flags.length > 1 ? `${flags.slice(0, -1).join(', ')} and ${flags.at(-1)}` : flags[0];
    throw new UsageError(`users ${sub} needs ${list}`);
  }
  return { values: strings as Record<R, string> & Partial<Record<O, string>>, json: values.json === true };
}

/** `users <sub> ID [WORD]`: the positional id (and role), nothing more; undefined for --help. */
function userPositionals(sub: string, args: string[], what: string, count: 1 | 2) {
  const { values, positionals } = parse(() =>
    parseArgs({ args, options: common, allowPositionals: true, strict: true }),
  );
  if (values.help) return undefined;
  if (positionals.length < count) throw new UsageError(`users ${sub} needs ${what}`);
  if (positionals.length > count)
    throw new UsageError(`users ${sub}: unexpected argument ${JSON.stringify(positionals[count])}`);
  return { positionals: positionals as [string, string?], json: values.json === true };
}

function users(sub: string | undefined, args: string[]): Command {
  const help = { kind: 'help', topic: 'users' } as const;
  switch (sub) {
    case 'create': {
      const f = userFlags(sub, args, ['email', 'name', 'password']);
      return f ? { kind: 'users create', ...f.values, json: f.json } : help;
    }
    case 'get': {
      const p = userPositionals(sub, args, 'a user id', 1);
      return p ? { kind: 'users get', id: p.positionals[0], json: p.json } : help;
    }
    case 'grant-role':
    case 'revoke-role': {
      const p = userPositionals(sub, args, 'a user id and a role', 2);
      if (!p) return help;
      const [id, role] = p.positionals;
      if (role !== 'admin')
        throw new UsageError(`users ${sub}: the one role is admin, not ${JSON.stringify(role)}`);
      return { kind: `users ${sub}`, id, json: p.json };
    }
    case 'change-password': {
      const f = userFlags(sub, args, ['current', 'new']);
      return f
        ? { kind: 'users change-password', current: f.values.current, next: f.values.new, json: f.json }
        : help;
    }
    case 'request-reset': {
      const f = userFlags(sub, args, ['email']);
      return f ? { kind: 'users request-reset', email: f.values.email, json: f.json } : help;
    }
    case 'reset-password': {
      const f = userFlags(sub, args, ['token', 'password']);
      return f ? { kind: 'users reset-password', ...f.values, json: f.json } : help;
    }
    case 'republish': {
      const f = userFlags(sub, args, ['from'], ['to']);
      if (!f) return help;
      return {
        kind: 'users republish',
        from: positionArg(f.values.from, '--from', undefined, 'users republish'),
        to: positionArg(f.values.to, '--to', 0, 'users republish'),
        json: f.json,
      };
    }
    case 'bootstrap-admin': {
      const f = userFlags(sub, args, ['email', 'password'], ['name', 'database-url']);
      if (!f) return help;
      return {
        kind: 'users bootstrap-admin',
        email: f.values.email,
        password: f.values.password,
        name: f.values.name ?? 'Admin',
        databaseUrl: f.values['database-url'],
        json: f.json,
      };
    }
    case undefined:
    case '--help':
    case '-h':
      return help;
    default:
      throw new UsageError(`unknown command: users ${sub}`);
  }
}

function notifications(sub: string | undefined, args: string[]): Command {
  if (sub === 'list') {
    const { values, positionals } = parse(() =>
      parseArgs({
        args,
        options: { ...common, user: { type: 'string' }, limit: { type: 'string' } },
        allowPositionals: true,
        strict: true,
      }),
    );
    if (values.help) return { kind: 'help', topic: 'notifications' };
    noPositionals('notifications list', positionals);
    return {
      kind: 'notifications list',
      userId: values.user,
      limit: parseLimit(values.limit),
      json: values.json === true,
    };
  }
  if (sub === undefined || sub === '--help' || sub === '-h') return { kind: 'help', topic: 'notifications' };
  throw new UsageError(`unknown command: notifications ${sub}`);
}

function products(sub: string | undefined, args: string[]): Command {
  const options = { ...common, limit: { type: 'string' } } as const;
  if (sub === 'list') {
    const { values, positionals } = parse(() =>
      parseArgs({ args, options, allowPositionals: true, strict: true }),
    );
    if (values.help) return { kind: 'help', topic: 'products' };
    noPositionals('products list', positionals);
    return { kind: 'products list', limit: parseLimit(values.limit), json: values.json === true };
  }
  if (sub === 'get') {
    const { values, positionals } = parse(() =>
      parseArgs({ args, options: common, allowPositionals: true, strict: true }),
    );
    if (values.help) return { kind: 'help', topic: 'products' };
    const [sku, extra] = positionals;
    if (sku === undefined) throw new UsageError('products get needs a SKU');
    if (extra !== undefined)
      throw new UsageError(`products get: unexpected argument ${JSON.stringify(extra)}`);
    return { kind: 'products get', sku, json: values.json === true };
  }
  if (sub === undefined || sub === '--help' || sub === '-h') return { kind: 'help', topic: 'products' };
  throw new UsageError(`unknown command: products ${sub}`);
}

function simple(kind: 'mail' | 'status', args: string[]): Command {
  const { values, positionals } = parse(() =>
    parseArgs({ args, options: common, allowPositionals: true, strict: true }),
  );
  if (values.help) return { kind: 'help', topic: kind };
  noPositionals(kind, positionals);
  return { kind, json: values.json === true };
}

function login(args: string[]): Command {
  const { values, positionals } = parse(() =>
    parseArgs({
      args,
      options: { ...common, email: { type: 'string' }, password: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    }),
  );
  if (values.help) return { kind: 'help', topic: 'login' };
  noPositionals('login', positionals);
  if (values.email === undefined || values.password === undefined)
    throw new UsageError('login needs --email and --password');
  return { kind: 'login', email: values.email, password: values.password, json: values.json === true };
}

/** Turns the command line (without `node main.ts`) into a command; throws UsageError. */
export function parseCommand(argv: readonly string[]): Command {
  const [first, ...rest] = argv;
  switch (first) {
    case undefined:
    case '--help':
    case '-h':
      return { kind: 'help', topic: undefined };
    case 'help': {
      const [topic, extra] = rest;
      if (topic !== undefined && !helpTopics.includes(topic))
        throw new UsageError(`no help for ${JSON.stringify(topic)}`);
      if (extra !== undefined) throw new UsageError(`help: unexpected argument ${JSON.stringify(extra)}`);
      return { kind: 'help', topic };
    }
    case 'users':
      return users(rest[0], rest.slice(1));
    case 'login':
      return login(rest);
    case 'logout': {
      const { values, positionals } = parse(() =>
        parseArgs({ args: rest, options: common, allowPositionals: true, strict: true }),
      );
      if (values.help) return { kind: 'help', topic: 'login' };
      noPositionals('logout', positionals);
      return { kind: 'logout', json: values.json === true };
    }
    case 'notifications':
      return notifications(rest[0], rest.slice(1));
    case 'products':
      return products(rest[0], rest.slice(1));
    case 'orders':
      return parseOrders(rest[0], rest.slice(1));
    case 'projections':
      return parseProjections(rest[0], rest.slice(1));
    case 'dlq':
      return parseDlq(rest[0], rest.slice(1));
    case 'dead-letters':
      return parseSequences(rest[0], rest.slice(1));
    case 'consumers':
      return parseConsumers(rest[0], rest.slice(1));
    case 'timers':
      return parseTimers(rest[0], rest.slice(1));
    case 'webhooks':
      return parseWebhooks(rest[0], rest.slice(1));
    case 'mail':
    case 'status':
      return simple(first, rest);
    case 'up':
    case 'test':
      throw new UsageError(`${first} runs through the launcher: ./bin/conveyor ${first}`);
    default:
      throw new UsageError(`unknown command: ${first}`);
  }
}
