import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  decide,
  evolve,
  fold,
  initialState,
  type OrderCommand,
  type OrderEvent,
  OrderRejected,
} from './order.ts';

const at = fc.date({ min: new Date('2026-01-01'), max: new Date('2027-01-01'), noInvalidDate: true });
const place = fc.record({
  type: fc.constant('PlaceOrder' as const),
  orderId: fc.uuid(),
  userId: fc.uuid(),
  // Each SKU once, so every order is valid (checkLines rejects a repeated SKU; order.property and the
  // component test cover rejected orders).
  items: fc.uniqueArray(
    fc.record({
      sku: fc.stringMatching(/^[A-Z0-9-]{1,12}$/),
      quantity: fc.integer({ min: 1, max: 1000 }),
      unitPrice: fc.record({
        amountMinor: fc.integer({ min: 0, max: 1_000_000 }),
        currency: fc.constant('EUR'),
      }),
    }),
    { minLength: 1, maxLength: 4, selector: (item) => item.sku },
  ),
  at,
});
const later: fc.Arbitrary<OrderCommand> = fc.oneof(
  fc.record({ type: fc.constant('PayOrder' as const), at }),
  fc.record({
    type: fc.constant('ShipOrder' as const),
    carrier: fc.string({ maxLength: 20 }),
    trackingNumber: fc.string({ maxLength: 20 }),
    at,
  }),
  fc.record({ type: fc.constant('DeliverOrder' as const), at }),
  fc.record({ type: fc.constant('CancelOrder' as const), reason: fc.string({ maxLength: 40 }), at }),
  fc.record({ type: fc.constant('ExpirePayment' as const), at }),
);

/** Runs commands, keeping the accepted events (rejections are skipped). */
function run(commands: readonly OrderCommand[]): OrderEvent[] {
  const events: OrderEvent[] = [];
  let state = initialState();
  for (const command of commands) {
    try {
      for (const event of decide(command, state)) {
        events.push(event);
        state = evolve(state, event);
      }
    } catch (error) {
      if (!(error instanceof OrderRejected)) throw error;
    }
  }
  return events;
}

describe('Order decider: determinism, replay and races (fast-check)', () => {
  it('is deterministic: the same commands give the same events, and folding them gives the live state', () => {
    fc.assert(
      fc.property(place, fc.array(later, { maxLength: 12 }), (first, rest) => {
        const commands = [first, ...rest];
        const events = run(commands);
        assert.deepEqual(run(commands), events);
        let live = initialState();
        for (const e of events) live = evolve(live, e);
        assert.deepEqual(fold(events), live);
        // Any prefix is a valid history too (what GetOrderAt shows).
        for (let i = 0; i <= events.length; i++) assert.doesNotThrow(() => fold(events.slice(0, i)));
      }),
      { numRuns: 300 },
    );
  });

  it('ship and cancel decided on the same paid state: whichever is appended first, the other is then rejected', () => {
    fc.assert(
      fc.property(place, at, fc.boolean(), (first, when, shipFirst) => {
        const paid = fold(run([first, { type: 'PayOrder', at: when }]));
        assert.equal(paid.status, 'paid');
        const ship: OrderCommand = { type: 'ShipOrder', carrier: 'DHL', trackingNumber: 'T', at: when };
        const cancel: OrderCommand = { type: 'CancelOrder', reason: 'race', at: when };
        // Both are legal on the state they were decided on (the race the event store's version check settles) ...
        assert.equal(decide(ship, paid).length, 1);
        assert.equal(decide(cancel, paid).length, 1);
        // ... and after the winner's event, the retried loser is rejected.
        const [winner, loser] = shipFirst ? [ship, cancel] : [cancel, ship];
        const after = fold(decide(winner, paid), paid);
        assert.throws(() => decide(loser, after), OrderRejected);
      }),
      { numRuns: 200 },
    );
  });
});
