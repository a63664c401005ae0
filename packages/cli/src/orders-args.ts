import { parseArgs } from 'node:util';
import { common, isHelp, noPositionals, onePositional, parse, parseLimit } from './arg-helpers.ts';
import { UsageError } from './cli-error.ts';
import {
  type ItemArg,
  isOrderStatusName,
  type OrderAt,
  type OrderStatusName,
  orderStatusNames,
  parseAt,
  parseIdempotencyKey,
  parseItems,
} from './order-values.ts';

export type OrdersCommand =
  | { kind: 'orders place'; userId: string; items: ItemArg[]; key: string | undefined; json: boolean }
  | { kind: 'orders pay'; id: string; json: boolean }
  | { kind: 'orders ship'; id: string; carrier: string; tracking: string; json: boolean }
  | { kind: 'orders deliver'; id: string; json: boolean }
  | { kind: 'orders cancel'; id: string; reason: string; json: boolean }
  | { kind: 'orders show'; id: string; json: boolean }
  | {
      kind: 'orders list';
      userId: string;
      status: OrderStatusName | undefined;
      limit: number | undefined;
      json: boolean;
    }
  | { kind: 'orders history'; id: string; json: boolean }
  | { kind: 'orders at'; id: string; at: OrderAt; json: boolean }
  | { kind: 'orders republish'; from: number; to: number; json: boolean }
  | { kind: 'projections rebuild'; json: boolean };

type Help = { kind: 'help'; topic: string };

const help: Help = { kind: 'help', topic: 'orders' };

function parseStatus(raw: string | undefined): OrderStatusName | undefined {
  if (raw === undefined || isOrderStatusName(raw)) return raw;
  throw new UsageError(`--status must be one of ${orderStatusNames.join(', ')}, not ${JSON.stringify(raw)}`);
}

function place(args: string[]): OrdersCommand | Help {
  const { values, positionals } = parse(() =>
    parseArgs({
      args,
      options: {
        ...common,
        user: { type: 'string' },
        item: { type: 'string', multiple: true },
        key: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    }),
  );
  if (values.help) return help;
  noPositionals('orders place', positionals);
  if (values.item === undefined) {
    throw new UsageError('orders place needs at least one --item SKU:QTY');
  }
  return {
    kind: 'orders place',
    userId: values.user ?? '',
    items: parseItems(values.item),
    key: parseIdempotencyKey(values.key),
    json: values.json === true,
  };
}

/** pay, deliver, show, history: an order id and nothing else. */
function byId(
  kind: 'orders pay' | 'orders deliver' | 'orders show' | 'orders history',
  args: string[],
): OrdersCommand | Help {
  const { values, positionals } = parse(() =>
    parseArgs({ args, options: common, allowPositionals: true, strict: true }),
  );
  if (values.help) return help;
  return { kind, id: onePositional(kind, 'an order id', positionals), json: values.json === true };
}

function ship(args: string[]): OrdersCommand | Help {
  const { values, positionals } = parse(() =>
    parseArgs({
      args,
      options: { ...common, carrier: { type: 'string' }, tracking: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    }),
  );
  if (values.help) return help;
  const id = onePositional('orders ship', 'an order id', positionals);
  if (values.carrier === undefined || values.tracking === undefined) {
    throw new UsageError('orders ship needs --carrier and --tracking');
  }
  return {
    kind: 'orders ship',
    id,
    carrier: values.carrier,
    tracking: values.tracking,
    json: values.json === true,
  };
}

function cancel(args: string[]): OrdersCommand | Help {
  const { values, positionals } = parse(() =>
    parseArgs({
      args,
      options: { ...common, reason: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    }),
  );
  if (values.help) return help;
  const id = onePositional('orders cancel', 'an order id', positionals);
  if (values.reason === undefined) throw new UsageError('orders cancel needs --reason');
  return { kind: 'orders cancel', id, reason: values.reason, json: values.json === true };
}

function list(args: string[]): OrdersCommand | Help {
  const { values, positionals } = parse(() =>
    parseArgs({
      args,
      options: { ...common, user: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    }),
  );
  if (values.help) return help;
  noPositionals('orders list', positionals);
  return {
    kind: 'orders list',
    userId: values.user ?? '',
    status: parseStatus(values.status),
    limit: parseLimit(values.limit),
    json: values.json === true,
  };
}

function at(args: string[]): OrdersCommand | Help {
  const { values, positionals } = parse(() =>
    parseArgs({
      args,
      options: { ...common, version: { type: 'string' }, time: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    }),
  );
  if (values.help) return help;
  const id = onePositional('orders at', 'an order id', positionals);
  return { kind: 'orders at', id, at: parseAt(values.version, values.time), json: values.json === true };
}

/** A position of `orders republish` or `users republish`: a whole number, or the fallback when absent. */
export function positionArg(
  raw: string | undefined,
  flag: string,
  fallback?: number,
  command = 'orders republish',
): number {
  if (raw === undefined) {
    if (fallback !== undefined) return fallback;
    throw new UsageError(`${command} needs ${flag} N`);
  }
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new UsageError(`${flag} must be a whole number, not ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

function republish(args: string[]): OrdersCommand | Help {
  const { values, positionals } = parse(() =>
    parseArgs({
      args,
      options: { ...common, from: { type: 'string' }, to: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    }),
  );
  if (values.help) return help;
  noPositionals('orders republish', positionals);
  return {
    kind: 'orders republish',
    from: positionArg(values.from, '--from'),
    to: positionArg(values.to, '--to', 0),
    json: values.json === true,
  };
}

/** `orders <sub> ...` */
export function parseOrders(sub: string | undefined, args: string[]): OrdersCommand | Help {
  switch (sub) {
    case 'place':
      return place(args);
    case 'pay':
      return byId('orders pay', args);
    case 'ship':
      return ship(args);
    case 'deliver':
      return byId('orders deliver', args);
    case 'cancel':
      return cancel(args);
    case 'show':
      return byId('orders show', args);
    case 'list':
      return list(args);
    case 'history':
      return byId('orders history', args);
    case 'at':
      return at(args);
    case 'republish':
      return republish(args);
    default:
      if (isHelp(sub)) return help;
      throw new UsageError(`unknown command: orders ${sub}`);
  }
}

/** `projections <sub> ...` */
export function parseProjections(sub: string | undefined, args: string[]): OrdersCommand | Help {
  if (sub === 'rebuild') {
    const { values, positionals } = parse(() =>
      parseArgs({ args, options: common, allowPositionals: true, strict: true }),
    );
    if (values.help) return { kind: 'help', topic: 'projections' };
    noPositionals('projections rebuild', positionals);
    return { kind: 'projections rebuild', json: values.json === true };
  }
  if (isHelp(sub)) return { kind: 'help', topic: 'projections' };
  throw new UsageError(`unknown command: projections ${sub}`);
}
