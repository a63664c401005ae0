import { createCommandHandler, type EventStore } from '@conveyor/platform';
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
