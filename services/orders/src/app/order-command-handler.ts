import {
  createCommandHandler,
  type EventStore,
  type TimerChanges,
  type TimerSpec,
} from '@conveyor/platform/core';
import {
  decide,
  evolve,
  initialState,
  type OrderCommand,
  type OrderEvent,
  type OrderState,
} from '../domain/order.ts';
import {
  decodeOrderEvent,
  decodeOrderState,
  encodeOrderEvent,
  encodeOrderState,
  toIntegrationEvent,
} from './order-event-mapping.ts';

export const orderDecider = { decide, evolve, initialState };
export const orderCodec = { encode: encodeOrderEvent, decode: decodeOrderEvent };

/**
 * The command loop for orders: every command goes through here, so every
 * accepted event reaches the outbox as its `order.*` integration event in
 * the same round trip.
 */
export function orderCommandHandler(deps: {
  store: EventStore;
  newEventId: () => string;
  snapshotEvery: number;
  maxAttempts: number;
}) {
  return createCommandHandler<OrderCommand, OrderEvent, OrderState>({
    store: deps.store,
    decider: orderDecider,
    codec: orderCodec,
    newEventId: deps.newEventId,
    maxAttempts: deps.maxAttempts,
    snapshots: { every: deps.snapshotEvery, encode: encodeOrderState, decode: decodeOrderState },
    timers: orderTimers,
    integrate: (events, stateAfter, metadata) => {
      if (stateAfter.status === 'none') return [];
      return events.map(({ event, eventId, version }) =>
        toIntegrationEvent(event, {
          eventId,
          orderId: stateAfter.orderId,
          userId: stateAfter.userId,
          version,
          ...(metadata.traceparent ? { traceparent: metadata.traceparent } : {}),
        }),
      );
    },
  });
}

export type OrderCommandHandler = ReturnType<typeof orderCommandHandler>;

/** The durable timer that cancels an unpaid order (ADR 0032). */
export const PAYMENT_TIMER_KIND = 'order.payment-timeout';
export const paymentTimerKey = (orderId: string) => `order-payment:${orderId}`;

/**
 * Timers the order's new events set or clear, stored with them: a deadline recorded with the
 * order starts its payment timer; payment or cancellation stops it.
 */
export function orderTimers(events: readonly OrderEvent[], stateAfter: OrderState): TimerChanges {
  if (stateAfter.status === 'none') return {};
  const key = paymentTimerKey(stateAfter.orderId);
  const set: TimerSpec[] = [];
  const clear: string[] = [];
  for (const event of events) {
    if (event.type === 'OrderPlaced' && event.paymentDueAt)
      set.push({
        key,
        kind: PAYMENT_TIMER_KIND,
        dueAt: event.paymentDueAt,
        payload: { orderId: event.orderId },
      });
    else if (event.type === 'OrderPaid' || event.type === 'OrderCancelled') clear.push(key);
  }
  return { ...(set.length > 0 ? { set } : {}), ...(clear.length > 0 ? { clear } : {}) };
}
