import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ordersV1 } from '@conveyor/contracts/grpc';
import {
  compactState,
  formatHistory,
  formatOrder,
  formatOrderSummaries,
  formatProgress,
  orderStatusLabel,
  orderStatusValue,
} from './order-format.ts';
import { at } from './testing/utc.ts';

const later = new Date('2026-01-03T10:00:00Z');
const eur = (amountMinor: number) => ({ amountMinor, currency: 'EUR' });

const placed = ordersV1.Order.fromPartial({
  id: 'o-1',
  userId: 'u-1',
  status: ordersV1.OrderStatus.ORDER_STATUS_PLACED,
  items: [
    { sku: 'MUG-001', quantity: 2, unitPrice: eur(1250) },
    { sku: 'STICKER-PACK', quantity: 1, unitPrice: eur(500) },
  ],
  total: eur(3000),
  version: 1,
  placedAt: at,
});
const paid = { ...placed, status: ordersV1.OrderStatus.ORDER_STATUS_PAID, version: 2, paidAt: later };
const shipped = {
  ...paid,
  status: ordersV1.OrderStatus.ORDER_STATUS_SHIPPED,
  version: 3,
  shippedAt: later,
  carrier: 'DHL',
  trackingNumber: '00340434',
};
const cancelled = {
  ...paid,
  status: ordersV1.OrderStatus.ORDER_STATUS_CANCELLED,
  version: 3,
  cancelledAt: later,
  cancelReason: 'changed my mind',
};

describe('order statuses', () => {
  it('label enum values in lower case and map names back', () => {
    assert.equal(orderStatusLabel(ordersV1.OrderStatus.ORDER_STATUS_PAID), 'paid');
    assert.equal(orderStatusLabel(ordersV1.OrderStatus.ORDER_STATUS_CANCELLED), 'cancelled');
    assert.equal(orderStatusLabel(ordersV1.OrderStatus.ORDER_STATUS_UNSPECIFIED), 'unspecified');
    assert.equal(orderStatusLabel(ordersV1.OrderStatus.UNRECOGNIZED), 'unrecognized');
    assert.equal(orderStatusValue('shipped'), ordersV1.OrderStatus.ORDER_STATUS_SHIPPED);
    assert.equal(orderStatusValue(undefined), ordersV1.OrderStatus.ORDER_STATUS_UNSPECIFIED);
  });
});

describe('formatOrder', () => {
  it('prints the fields, then the items with unit prices and line amounts', () => {
    assert.equal(
      formatOrder(placed),
      [
        'id       o-1',
        'user     u-1',
        'status   placed',
        'total    30.00 EUR',
        'version  1',
        'placed   2026-01-02 03:04:05',
        '',
        'sku           qty  unit price  amount',
        'MUG-001       2    12.50 EUR   25.00 EUR',
        'STICKER-PACK  1    5.00 EUR    5.00 EUR',
      ].join('\n'),
    );
  });

  it('adds the fields of the steps taken', () => {
    const text = formatOrder(shipped);
    assert.match(text, /^status +shipped$/m);
    assert.match(text, /^paid +2026-01-03 10:00:00$/m);
    assert.match(text, /^shipped +2026-01-03 10:00:00\ncarrier +DHL\ntracking +00340434$/m);
    assert.doesNotMatch(text, /^(delivered|cancelled|reason) /m);
    assert.match(formatOrder(cancelled), /^cancelled +2026-01-03 10:00:00\nreason +changed my mind$/m);
  });
});

describe('formatOrderSummaries', () => {
  it('prints one row per order', () => {
    const summary = ordersV1.OrderSummary.fromPartial({
      id: 'o-1',
      userId: 'u-1',
      status: ordersV1.OrderStatus.ORDER_STATUS_DELIVERED,
      total: eur(3000),
      itemCount: 2,
      version: 4,
      placedAt: at,
      updatedAt: later,
    });
    assert.equal(
      formatOrderSummaries([summary]),
      [
        'placed               id   status     items  total      version',
        '2026-01-02 03:04:05  o-1  delivered  2      30.00 EUR  4',
      ].join('\n'),
    );
  });
});

describe('formatHistory', () => {
  it('prints version, time, event and a compact state', () => {
    const entry = (version: number, eventType: string, state: ordersV1.Order) => ({
      version,
      eventId: `e-${version}`,
      eventType,
      recordedAt: at,
      dataJson: '{}',
      state,
    });
    assert.equal(
      formatHistory([
        entry(1, 'OrderPlaced', placed),
        entry(2, 'OrderPaid', paid),
        entry(3, 'OrderShipped', shipped),
      ]),
      [
        'version  time                 event         state',
        '1        2026-01-02 03:04:05  OrderPlaced   placed, 2 items, 30.00 EUR',
        '2        2026-01-02 03:04:05  OrderPaid     paid, 30.00 EUR',
        '3        2026-01-02 03:04:05  OrderShipped  shipped, DHL 00340434',
      ].join('\n'),
    );
    assert.equal(formatHistory([]), 'no events');
  });

  it('says what each step added', () => {
    assert.equal(compactState(cancelled), 'cancelled: changed my mind');
    assert.equal(
      compactState({ ...shipped, status: ordersV1.OrderStatus.ORDER_STATUS_DELIVERED, deliveredAt: later }),
      'delivered',
    );
    assert.equal(compactState({ ...placed, items: [placed.items[0]!] }), 'placed, 1 item, 30.00 EUR');
    assert.equal(compactState(undefined), '-');
  });
});

describe('formatProgress', () => {
  it('prints counts and a percentage, with an optional bar', () => {
    assert.equal(
      formatProgress({ phase: 'copying', processed: 1200, total: 5000 }),
      'copying  1200/5000  24%',
    );
    assert.equal(
      formatProgress({ phase: 'copying', processed: 1200, total: 5000 }, true),
      'copying  [#####               ]  1200/5000  24%',
    );
    assert.equal(
      formatProgress({ phase: 'copying', processed: 5000, total: 5000 }, true),
      'copying  [####################]  5000/5000  100%',
    );
    assert.equal(
      formatProgress({ phase: 'catching-up', processed: 6000, total: 5000 }),
      'catching-up  6000/5000  100%',
    );
    assert.equal(formatProgress({ phase: 'catching-up', processed: 37, total: 0 }), 'catching-up  37');
    assert.equal(formatProgress({ phase: 'swapping', processed: 0, total: 0 }, true), 'swapping');
  });
});
