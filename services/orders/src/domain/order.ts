import type { Money } from './product.ts';

/**
 * The Order aggregate as a Decider: decide(command, state) → events and
 * evolve(state, event) → state, both pure. Ids and time come in with the
 * command; nothing here reads a clock or a random source.
 *
 * Lifecycle: placed → paid → shipped → delivered; cancellable until shipped.
 */

export interface LineItem {
  sku: string;
  quantity: number;
  /** From the server-side catalog, never from the client. */
  unitPrice: Money;
}

// ── Commands ─────────────────────────────────────────────────────────────
export type OrderCommand =
  | {
      type: 'PlaceOrder';
      orderId: string;
      userId: string;
      items: LineItem[];
      at: Date;
      /** Cancelled unless paid by then (ORDER_PAYMENT_TIMEOUT); none: no deadline. */
      paymentDueAt?: Date;
    }
  | { type: 'PayOrder'; at: Date }
  | { type: 'ShipOrder'; carrier: string; trackingNumber: string; at: Date }
  | { type: 'DeliverOrder'; at: Date }
  | { type: 'CancelOrder'; reason: string; at: Date }
  /** The payment deadline passed (a durable timer): cancels the order if it is still unpaid. */
  | { type: 'ExpirePayment'; at: Date };

/** The reason an order unpaid by its deadline is cancelled with. */
export const PAYMENT_TIMEOUT_REASON = 'payment timeout';

// ── Domain events (past tense; wire names live in the event catalog) ──────
export type OrderEvent =
  | {
      type: 'OrderPlaced';
      orderId: string;
      userId: string;
      items: LineItem[];
      total: Money;
      at: Date;
      paymentDueAt?: Date;
    }
  | { type: 'OrderPaid'; amount: Money; at: Date }
  | { type: 'OrderShipped'; carrier: string; trackingNumber: string; at: Date }
  | { type: 'OrderDelivered'; at: Date }
  | { type: 'OrderCancelled'; reason: string; at: Date };

// ── State ────────────────────────────────────────────────────────────────
interface Placed {
  orderId: string;
  userId: string;
  items: LineItem[];
  total: Money;
  placedAt: Date;
}

export type OrderState =
  | { status: 'none' }
  | ({ status: 'placed' } & Placed)
  | ({ status: 'paid'; paidAt: Date } & Placed)
  | ({ status: 'shipped'; paidAt: Date; shippedAt: Date; carrier: string; trackingNumber: string } & Placed)
  | ({
      status: 'delivered';
      paidAt: Date;
      shippedAt: Date;
      deliveredAt: Date;
      carrier: string;
      trackingNumber: string;
    } & Placed)
  | ({ status: 'cancelled'; paidAt: Date | undefined; cancelledAt: Date; reason: string } & Placed);

export type OrderStatus = OrderState['status'];

/** A command that the order's current state forbids, or that is malformed. */
export class OrderRejected extends Error {
  override name = 'OrderRejected';
  readonly kind: 'illegal-transition' | 'invalid';
  readonly field: string | undefined;
  constructor(kind: 'illegal-transition' | 'invalid', message: string, field?: string) {
    super(message);
    this.kind = kind;
    this.field = field;
  }
}

export const initialState = (): OrderState => ({ status: 'none' });

const illegal = (state: OrderState, what: string) =>
  new OrderRejected(
    'illegal-transition',
    state.status === 'none'
      ? `order does not exist; cannot ${what}`
      : `order is ${state.status}; cannot ${what}`,
  );

export function decide(command: OrderCommand, state: OrderState): OrderEvent[] {
  switch (command.type) {
    case 'PlaceOrder': {
      if (state.status !== 'none') throw illegal(state, 'place it again');
      checkLines(command.items);
      const total = totalOf(command.items);
      return [
        {
          type: 'OrderPlaced',
          orderId: command.orderId,
          userId: command.userId,
          items: command.items,
          total,
          at: command.at,
          ...(command.paymentDueAt ? { paymentDueAt: command.paymentDueAt } : {}),
        },
      ];
    }
    case 'PayOrder':
      if (state.status !== 'placed') throw illegal(state, 'pay');
      return [{ type: 'OrderPaid', amount: state.total, at: command.at }];
    case 'ShipOrder':
      if (state.status !== 'paid') throw illegal(state, 'ship (only paid orders ship)');
      requireText(command.carrier, 'carrier', 64);
      requireText(command.trackingNumber, 'tracking_number', 64);
      return [
        {
          type: 'OrderShipped',
          carrier: command.carrier.trim(),
          trackingNumber: command.trackingNumber.trim(),
          at: command.at,
        },
      ];
    case 'DeliverOrder':
      if (state.status !== 'shipped') throw illegal(state, 'deliver (only shipped orders are delivered)');
      return [{ type: 'OrderDelivered', at: command.at }];
    case 'CancelOrder':
      if (state.status !== 'placed' && state.status !== 'paid') throw illegal(state, 'cancel');
      requireText(command.reason, 'reason', 500);
      return [{ type: 'OrderCancelled', reason: command.reason.trim(), at: command.at }];
    case 'ExpirePayment':
      // Paid, cancelled or gone since the deadline was set: nothing to do (a timer may fire twice).
      return state.status === 'placed'
        ? [{ type: 'OrderCancelled', reason: PAYMENT_TIMEOUT_REASON, at: command.at }]
        : [];
    default: {
      const unreachable: never = command;
      throw new Error(`unknown command ${JSON.stringify(unreachable)}`);
    }
  }
}

export function evolve(state: OrderState, event: OrderEvent): OrderState {
  switch (event.type) {
    case 'OrderPlaced':
      return {
        status: 'placed',
        orderId: event.orderId,
        userId: event.userId,
        items: event.items,
        total: event.total,
        placedAt: event.at,
      };
    case 'OrderPaid':
      return state.status === 'placed' ? { ...state, status: 'paid', paidAt: event.at } : state;
    case 'OrderShipped':
      return state.status === 'paid'
        ? {
            ...state,
            status: 'shipped',
            shippedAt: event.at,
            carrier: event.carrier,
            trackingNumber: event.trackingNumber,
          }
        : state;
    case 'OrderDelivered':
      return state.status === 'shipped' ? { ...state, status: 'delivered', deliveredAt: event.at } : state;
    case 'OrderCancelled':
      return state.status === 'placed' || state.status === 'paid'
        ? {
            ...state,
            status: 'cancelled',
            paidAt: state.status === 'paid' ? state.paidAt : undefined,
            cancelledAt: event.at,
            reason: event.reason,
          }
        : state;
    default: {
      const unreachable: never = event;
      throw new Error(`unknown event ${JSON.stringify(unreachable)}`);
    }
  }
}

export const fold = (events: readonly OrderEvent[], from: OrderState = initialState()): OrderState =>
  events.reduce(evolve, from);

/** An order's lines: 1 to 50 of them, each SKU on one line, 1 to 1,000 of each. */
export function checkLines(items: readonly { sku: string; quantity: number }[]): void {
  const invalid = (field: string, problem: string) =>
    new OrderRejected('invalid', `${field}: ${problem}`, field);
  if (items.length === 0) throw invalid('items', 'an order needs at least one item');
  if (items.length > 50) throw invalid('items', 'at most 50 lines per order');
  const seen = new Set<string>();
  for (const [i, item] of items.entries()) {
    if (seen.has(item.sku))
      throw invalid(`items[${i}].sku`, `${item.sku} appears twice; use one line with a quantity`);
    seen.add(item.sku);
    if (!Number.isInteger(item.quantity) || item.quantity < 1 || item.quantity > 1000)
      throw invalid(`items[${i}].quantity`, 'must be between 1 and 1000');
  }
}

/** Sum of quantity × unit price over checked lines (at least one); every line must share one currency. */
export function totalOf(items: readonly LineItem[]): Money {
  const currency = items[0]!.unitPrice.currency;
  let amountMinor = 0;
  for (const item of items) {
    if (item.unitPrice.currency !== currency) {
      throw new OrderRejected(
        'invalid',
        `items: ${item.sku} is priced in ${item.unitPrice.currency}, not ${currency}`,
        'items',
      );
    }
    amountMinor += item.quantity * item.unitPrice.amountMinor;
  }
  if (!Number.isSafeInteger(amountMinor))
    throw new OrderRejected('invalid', 'items: total is too large', 'items');
  return { amountMinor, currency };
}

function requireText(value: string, field: string, max: number): void {
  const text = value.trim();
  if (text === '') throw new OrderRejected('invalid', `${field}: is required`, field);
  if (text.length > max)
    throw new OrderRejected('invalid', `${field}: must be at most ${max} characters`, field);
}
