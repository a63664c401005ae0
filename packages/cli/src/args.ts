import { parseArgs } from 'node:util';
import { common, noPositionals, parse, parseLimit } from './arg-helpers.ts';
import { UsageError } from './cli-error.ts';
import { type DlqCommand, parseDlq, parseWebhooks, type WebhooksCommand } from './dlq-args.ts';
import { type OrdersCommand, parseOrders, parseProjections } from './orders-args.ts';
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
  | WebhooksCommand;

function users(sub: string | undefined, args: string[]): Command {
  if (sub === 'create') {
    const { values, positionals } = parse(() =>
      parseArgs({
        args,
        options: {
          ...common,
          email: { type: 'string' },
          name: { type: 'string' },
          password: { type: 'string' },
        },
        allowPositionals: true,
        strict: true,
      }),
    );
    if (values.help) return { kind: 'help', topic: 'users' };
    noPositionals('users create', positionals);
    if (values.email === undefined || values.name === undefined || values.password === undefined) {
      throw new UsageError('users create needs --email, --name and --password');
    }
    return {
      kind: 'users create',
      email: values.email,
      name: values.name,
      password: values.password,
      json: values.json === true,
    };
  }
  if (sub === 'get') {
    const { values, positionals } = parse(() =>
      parseArgs({ args, options: common, allowPositionals: true, strict: true }),
    );
    if (values.help) return { kind: 'help', topic: 'users' };
    const [id, extra] = positionals;
    if (id === undefined) throw new UsageError('users get needs a user id');
    if (extra !== undefined) throw new UsageError(`users get: unexpected argument ${JSON.stringify(extra)}`);
    return { kind: 'users get', id, json: values.json === true };
  }
  if (sub === 'grant-role' || sub === 'revoke-role') {
    const { values, positionals } = parse(() =>
      parseArgs({ args, options: common, allowPositionals: true, strict: true }),
    );
    if (values.help) return { kind: 'help', topic: 'users' };
    const [id, role, extra] = positionals;
    if (id === undefined || role === undefined)
      throw new UsageError(`users ${sub} needs a user id and a role`);
    if (role !== 'admin')
      throw new UsageError(`users ${sub}: the one role is admin, not ${JSON.stringify(role)}`);
    if (extra !== undefined)
      throw new UsageError(`users ${sub}: unexpected argument ${JSON.stringify(extra)}`);
    return { kind: `users ${sub}`, id, json: values.json === true };
  }
  if (sub === 'change-password' || sub === 'request-reset' || sub === 'reset-password') {
    const { values, positionals } = parse(() =>
      parseArgs({
        args,
        options: {
          ...common,
          current: { type: 'string' },
          new: { type: 'string' },
          email: { type: 'string' },
          token: { type: 'string' },
          password: { type: 'string' },
        },
        allowPositionals: true,
        strict: true,
      }),
    );
    if (values.help) return { kind: 'help', topic: 'users' };
    noPositionals(`users ${sub}`, positionals);
    const json = values.json === true;
    if (sub === 'change-password') {
      if (values.current === undefined || values.new === undefined)
        throw new UsageError('users change-password needs --current and --new');
      return { kind: 'users change-password', current: values.current, next: values.new, json };
    }
    if (sub === 'request-reset') {
      if (values.email === undefined) throw new UsageError('users request-reset needs --email');
      return { kind: 'users request-reset', email: values.email, json };
    }
    if (values.token === undefined || values.password === undefined)
      throw new UsageError('users reset-password needs --token and --password');
    return { kind: 'users reset-password', token: values.token, password: values.password, json };
  }
  if (sub === 'bootstrap-admin') {
    const { values, positionals } = parse(() =>
      parseArgs({
        args,
        options: {
          ...common,
          email: { type: 'string' },
          name: { type: 'string' },
          password: { type: 'string' },
          'database-url': { type: 'string' },
        },
        allowPositionals: true,
        strict: true,
      }),
    );
    if (values.help) return { kind: 'help', topic: 'users' };
    noPositionals('users bootstrap-admin', positionals);
    if (values.email === undefined || values.password === undefined) {
      throw new UsageError('users bootstrap-admin needs --email and --password');
    }
    return {
      kind: 'users bootstrap-admin',
      email: values.email,
      name: values.name ?? 'Admin',
      password: values.password,
      databaseUrl: values['database-url'],
      json: values.json === true,
    };
  }
  if (sub === undefined || sub === '--help' || sub === '-h') return { kind: 'help', topic: 'users' };
  throw new UsageError(`unknown command: users ${sub}`);
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
