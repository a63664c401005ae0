import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decide,
  evolve,
  fold,
  initialState,
  type OrderCommand,
  type OrderEvent,
  OrderRejected,
  type OrderState,
  type OrderStatus,
  PAYMENT_TIMEOUT_REASON,
} from './order.ts';

const t = (n: number) => new Date(Date.UTC(2026, 10, 24, 9, n));
const orderId = '0192f3a1-0000-7000-8000-00000000a001';
const userId = '0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e';
const eur = (amountMinor: number) => ({ amountMinor, currency: 'EUR' });
const items = [
  { sku: 'MUG-001', quantity: 2, unitPrice: eur(1250) },
  { sku: 'STICKER-PACK', quantity: 1, unitPrice: eur(500) },
];

const placed: OrderEvent = { type: 'OrderPlaced', orderId, userId, items, total: eur(3000), at: t(0) };
const paid: OrderEvent = { type: 'OrderPaid', amount: eur(3000), at: t(1) };
const shipped: OrderEvent = { type: 'OrderShipped', carrier: 'DHL', trackingNumber: 'JD01', at: t(2) };
const delivered: OrderEvent = { type: 'OrderDelivered', at: t(3) };
const cancelled: OrderEvent = { type: 'OrderCancelled', reason: 'changed my mind', at: t(2) };

/** The events that lead to each state. */
const history: Record<OrderStatus, OrderEvent[]> = {
  none: [],
  placed: [placed],
  paid: [placed, paid],
  shipped: [placed, paid, shipped],
  delivered: [placed, paid, shipped, delivered],
  cancelled: [placed, cancelled],
};

/** Commands a caller sends (ExpirePayment, sent by a timer, has its own tests below). */
const commands: Record<Exclude<OrderCommand['type'], 'ExpirePayment'>, OrderCommand> = {
  PlaceOrder: { type: 'PlaceOrder', orderId, userId, items, at: t(0) },
  PayOrder: { type: 'PayOrder', at: t(1) },
  ShipOrder: { type: 'ShipOrder', carrier: ' DHL ', trackingNumber: 'JD01', at: t(2) },
  DeliverOrder: { type: 'DeliverOrder', at: t(3) },
  CancelOrder: { type: 'CancelOrder', reason: ' changed my mind ', at: t(2) },
};

/** Which command each state allows, and what it yields. */
const allowed: Partial<Record<`${OrderStatus}:${OrderCommand['type']}`, OrderEvent[]>> = {
  'none:PlaceOrder': [placed],
  'placed:PayOrder': [paid],
  'placed:CancelOrder': [cancelled],
  'paid:ShipOrder': [shipped],
  'paid:CancelOrder': [cancelled],
  'shipped:DeliverOrder': [delivered],
};

function given(events: OrderEvent[]): OrderState {
  return fold(events);
}

describe('Order payment deadline', () => {
  const due = t(30);

  it('is recorded with the order when the command sets one, and not otherwise', () => {
    assert.deepEqual(decide({ ...commands.PlaceOrder, paymentDueAt: due } as OrderCommand, initialState()), [
      { ...placed, paymentDueAt: due },
    ]);
    assert.equal('paymentDueAt' in decide(commands.PlaceOrder, initialState())[0]!, false);
  });

  it('cancels an unpaid order with the reason "payment timeout"', () => {
    assert.deepEqual(decide({ type: 'ExpirePayment', at: due }, given([placed])), [
      { type: 'OrderCancelled', reason: PAYMENT_TIMEOUT_REASON, at: due },
    ]);
    assert.equal(PAYMENT_TIMEOUT_REASON, 'payment timeout');
  });

  for (const status of ['none', 'paid', 'shipped', 'delivered', 'cancelled'] as const) {
    it(`does nothing to a ${status} order (a timer may fire late, or twice)`, () => {
      assert.deepEqual(decide({ type: 'ExpirePayment', at: due }, given(history[status])), []);
    });
  }
});

describe('Order decider', () => {
  for (const status of Object.keys(history) as OrderStatus[]) {
    for (const command of Object.values(commands)) {
      const expected = allowed[`${status}:${command.type}`];
      if (expected) {
        it(`given ${status}, when ${command.type}, then ${expected.map((e) => e.type).join(', ')}`, () => {
          assert.deepEqual(decide(command, given(history[status])), expected);
        });
      } else {
        it(`given ${status}, when ${command.type}, then FAILED_PRECONDITION saying why`, () => {
          assert.throws(
            () => decide(command, given(history[status])),
            (error: OrderRejected) => {
              assert.ok(error instanceof OrderRejected);
              assert.equal(error.kind, 'illegal-transition');
              assert.match(
                error.message,
                status === 'none'
                  ? /^order does not exist; cannot /
                  : new RegExp(`^order is ${status}; cannot `),
              );
              return true;
            },
          );
        });
      }
    }
  }

  it('prices the order as the sum of quantity × unit price', () => {
    const [event] = decide(commands.PlaceOrder, initialState());
    assert.deepEqual(event?.type === 'OrderPlaced' && event.total, eur(3000));
  });

  it('pays exactly the total', () => {
    assert.deepEqual(decide(commands.PayOrder, given([placed])), [
      { type: 'OrderPaid', amount: eur(3000), at: t(1) },
    ]);
  });

  const invalid: [string, OrderCommand, OrderEvent[], string][] = [
    ['no items', { ...commands.PlaceOrder, items: [] } as OrderCommand, [], 'items'],
    [
      'more than 50 lines',
      {
        ...commands.PlaceOrder,
        items: Array.from({ length: 51 }, (_, i) => ({ sku: `SKU-${i}`, quantity: 1, unitPrice: eur(1) })),
      } as OrderCommand,
      [],
      'items',
    ],
    [
      'a SKU on two lines',
      { ...commands.PlaceOrder, items: [items[0]!, items[1]!, items[0]!] } as OrderCommand,
      [],
      'items[2].sku',
    ],
    [
      'a quantity of 0',
      { ...commands.PlaceOrder, items: [{ ...items[0]!, quantity: 0 }] } as OrderCommand,
      [],
      'items[0].quantity',
    ],
    [
      'a quantity over 1,000',
      { ...commands.PlaceOrder, items: [items[0]!, { ...items[1]!, quantity: 1001 }] } as OrderCommand,
      [],
      'items[1].quantity',
    ],
    [
      'mixed currencies',
      {
        ...commands.PlaceOrder,
        items: [items[0]!, { sku: 'X', quantity: 1, unitPrice: { amountMinor: 1, currency: 'USD' } }],
      } as OrderCommand,
      [],
      'items',
    ],
    ['an empty carrier', { ...commands.ShipOrder, carrier: ' ' } as OrderCommand, [placed, paid], 'carrier'],
    [
      'an empty tracking number',
      { ...commands.ShipOrder, trackingNumber: '' } as OrderCommand,
      [placed, paid],
      'tracking_number',
    ],
    ['an empty reason', { ...commands.CancelOrder, reason: '' } as OrderCommand, [placed], 'reason'],
    [
      'a reason over 500 characters',
      { ...commands.CancelOrder, reason: 'x'.repeat(501) } as OrderCommand,
      [placed],
      'reason',
    ],
  ];
  for (const [title, command, events, field] of invalid) {
    it(`rejects ${title} as invalid, naming ${field}`, () => {
      assert.throws(
        () => decide(command, given(events)),
        (error: OrderRejected) =>
          error.kind === 'invalid' && error.field === field && error.message.startsWith(`${field}: `),
      );
    });
  }

  it('folds the full lifecycle into the delivered state', () => {
    assert.deepEqual(given(history.delivered), {
      status: 'delivered',
      orderId,
      userId,
      items,
      total: eur(3000),
      placedAt: t(0),
      paidAt: t(1),
      shippedAt: t(2),
      carrier: 'DHL',
      trackingNumber: 'JD01',
      deliveredAt: t(3),
    });
  });

  it('keeps the payment time when a paid order is cancelled', () => {
    const state = given([placed, paid, cancelled]);
    assert.equal(state.status, 'cancelled');
    assert.deepEqual(state.status === 'cancelled' && state.paidAt, t(1));
  });

  it('ignores an event that does not apply to the state (evolve is total)', () => {
    assert.deepEqual(evolve(given([placed]), delivered), given([placed]));
  });
});
