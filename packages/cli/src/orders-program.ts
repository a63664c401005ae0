import { type Command, Option } from 'commander';
import { limitOption, wholeNumber } from './option-values.ts';
import { addItem, orderStatusNames, parseAt, parseIdempotencyKey } from './order-values.ts';
import { group, type Leaf, system } from './program.ts';

const changes = system(() => import('./order-commands.ts'));
const queries = system(() => import('./order-queries.ts'));

/** `orders republish` and `users republish`: the events (or logged events) at positions N..M again. */
export function declareRepublish(leaf: Leaf, service: Command, description: string): void {
  const name = service.name() as 'orders' | 'users';
  leaf(service, 'republish', description, queries('republishEvents'), (values: object) => ({
    ...values,
    service: name,
  }))
    .requiredOption('--from <N>', 'the first position', wholeNumber('--from', 0))
    .option('--to <M>', 'the last position (default: the newest)', wholeNumber('--to', 0), 0);
}

/** `orders …` and `projections rebuild`. */
export function declareOrders(program: Command, leaf: Leaf): void {
  const orders = group(program, 'orders', 'place, pay, ship and look at orders');
  leaf(
    orders,
    'place',
    'place an order priced from the catalog, for yourself (admins: --user for someone else)',
    changes('placeOrder'),
    ({ item, ...rest }: { item: unknown }) => ({ items: item, ...rest }),
  )
    .requiredOption('--item <SKU:QTY>', 'a product and how many (1-1000); repeat for more', addItem)
    .option(
      '--key <KEY>',
      'makes retries return the same order (default: a new UUID, printed)',
      parseIdempotencyKey,
    )
    .option('--user <ID>', 'the customer (admins only; default: you)');
  leaf(orders, 'pay <ID>', 'pay a placed order', changes('payOrder'));
  leaf(orders, 'ship <ID>', 'ship a paid order', changes('shipOrder'))
    .requiredOption('--carrier <C>')
    .requiredOption('--tracking <T>');
  leaf(orders, 'deliver <ID>', 'mark a shipped order delivered', changes('deliverOrder'));
  leaf(orders, 'cancel <ID>', 'cancel an order that has not shipped', changes('cancelOrder')).requiredOption(
    '--reason <TEXT>',
  );
  leaf(orders, 'show <ID>', 'one order, from the read model', queries('showOrder'));
  leaf(orders, 'list', 'your orders (admins: --user’s), newest first', queries('listOrders'))
    .option('--user <ID>', "this user's (admins only; default: yours)")
    .addOption(new Option('--status <S>', 'only orders in this status').choices(orderStatusNames))
    .addOption(limitOption());
  leaf(orders, 'history <ID>', 'every event of an order, with the state after it', queries('orderHistory'));
  leaf(
    orders,
    'at <ID>',
    'the order after its Nth event, or as of T',
    queries('orderAt'),
    ({ id, version, time }: { id: string; version?: string; time?: string }) => ({
      id,
      at: parseAt(version, time),
    }),
  )
    .option('--version <N>', 'after its Nth event (1: as placed)')
    .option('--time <T>', 'ISO-8601, local unless Z or +hh:mm; 10:15:30 includes that second');
  declareRepublish(leaf, orders, 'publish the events at store positions N..M again; consumers absorb copies');
  const projections = group(program, 'projections', 'the read models');
  leaf(
    projections,
    'rebuild',
    'rebuild the order read models from the events, with progress (--json: one JSON line per report)',
    system(() => import('./projections-command.ts'))('rebuildProjections'),
  );
}
