import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decide, evolve, initialState, type OrderCommand, OrderRejected, type OrderState } from './order.ts';

const at = fc.date({ min: new Date('2026-01-01'), max: new Date('2027-01-01'), noInvalidDate: true });
const text = fc.string({ maxLength: 600 });
const item = fc.record({
  sku: fc.stringMatching(/^[A-Z0-9-]{1,12}$/),
  quantity: fc.integer({ min: 1, max: 1000 }),
  unitPrice: fc.record({
    amountMinor: fc.integer({ min: 0, max: 1_000_000 }),
    currency: fc.constantFrom('EUR', 'USD'),
  }),
});
const command: fc.Arbitrary<OrderCommand> = fc.oneof(
  fc.record({
    type: fc.constant('PlaceOrder' as const),
    orderId: fc.uuid(),
    userId: fc.uuid(),
    items: fc.array(item, { maxLength: 5 }),
    at,
  }),
  fc.record({ type: fc.constant('PayOrder' as const), at }),
  fc.record({ type: fc.constant('ShipOrder' as const), carrier: text, trackingNumber: text, at }),
  fc.record({ type: fc.constant('DeliverOrder' as const), at }),
  fc.record({ type: fc.constant('CancelOrder' as const), reason: text, at }),
  fc.record({ type: fc.constant('ExpirePayment' as const), at }),
);

const terminal = new Set<OrderState['status']>(['delivered', 'cancelled']);
const allowedNext: Record<OrderState['status'], OrderState['status'][]> = {
  none: ['placed'],
  placed: ['paid', 'cancelled'],
  paid: ['shipped', 'cancelled'],
  shipped: ['delivered'],
  delivered: [],
  cancelled: [],
};

describe('Order decider properties (fast-check)', () => {
  it('any command sequence only walks the lifecycle, rejects with OrderRejected, and keeps the total', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 30 }), (commands) => {
        let state = initialState();
        for (const c of commands) {
          let events: ReturnType<typeof decide>;
          try {
            events = decide(c, state);
          } catch (error) {
            assert.ok(
              error instanceof OrderRejected,
              `unexpected ${(error as Error)?.name}: ${(error as Error)?.message}`,
            );
            continue;
          }
          if (events.length > 0) assert.ok(!terminal.has(state.status), 'a terminal order changed');
          for (const e of events) {
            const next = evolve(state, e);
            assert.ok(allowedNext[state.status].includes(next.status), `${state.status} → ${next.status}`);
            if (next.status !== 'none' && state.status !== 'none') assert.deepEqual(next.total, state.total);
            state = next;
          }
        }
        if (state.status !== 'none') {
          const sum = state.items.reduce((s, i) => s + i.quantity * i.unitPrice.amountMinor, 0);
          assert.equal(state.total.amountMinor, sum);
        }
      }),
      { numRuns: 500 },
    );
  });
});
