import type { EventData, EventType } from '@conveyor/contracts';
import { type CloudEvent, newEvent } from '@conveyor/platform/core';
import type { LineItem, OrderEvent, OrderState } from '../domain/order.ts';
import type { Money } from '../domain/product.ts';

/**
 * Translations of the Order's domain events:
 * - to and from their stored form (the event store's `type` + JSON `data`);
 * - to integration events on the wire (the catalog's `order.*`), and back,
 *   for consumers of this service's own events (the projections).
 * Domain events and integration events are kept distinct: the wire contract
 * can stay stable while the domain evolves.
 */

/** Event-store stream of an order. */
export const orderStreamId = (orderId: string) => `order-${orderId}`;
export const orderIdOfStream = (streamId: string) => streamId.replace(/^order-/, '');

export const eventSource = 'conveyor/orders';

type Stored = { type: OrderEvent['type']; data: Record<string, unknown> };

export function encodeOrderEvent(event: OrderEvent): Stored {
  if (event.type === 'OrderPlaced' && event.paymentDueAt) {
    const { type, at, paymentDueAt, ...rest } = event;
    return { type, data: { ...rest, at: at.toISOString(), paymentDueAt: paymentDueAt.toISOString() } };
  }
  const { type, at, ...rest } = event;
  return { type, data: { ...rest, at: at.toISOString() } };
}

export function decodeOrderEvent(stored: { type: string; data: unknown }): OrderEvent {
  const data = stored.data as Record<string, unknown> & { at: string };
  const at = new Date(data.at);
  switch (stored.type) {
    case 'OrderPlaced':
      return {
        type: 'OrderPlaced',
        orderId: data.orderId as string,
        userId: data.userId as string,
        items: data.items as LineItem[],
        total: data.total as Money,
        at,
        ...(typeof data.paymentDueAt === 'string' ? { paymentDueAt: new Date(data.paymentDueAt) } : {}),
      };
    case 'OrderPaid':
      return { type: 'OrderPaid', amount: data.amount as Money, at };
    case 'OrderShipped':
      return {
        type: 'OrderShipped',
        carrier: data.carrier as string,
        trackingNumber: data.trackingNumber as string,
        at,
      };
    case 'OrderDelivered':
      return { type: 'OrderDelivered', at };
    case 'OrderCancelled':
      return { type: 'OrderCancelled', reason: data.reason as string, at };
    default:
      throw new Error(`unknown stored order event type ${stored.type}`);
  }
}

/** The integration event announcing a domain event; shares its id (Nats-Msg-Id = event id). */
export function toIntegrationEvent(
  event: OrderEvent,
  context: { eventId: string; orderId: string; userId: string; version: number; traceparent?: string },
): CloudEvent {
  const ref = { orderId: context.orderId, userId: context.userId };
  const options = {
    source: eventSource,
    subject: context.orderId,
    id: context.eventId,
    time: event.at,
    streamversion: context.version,
    ...(context.traceparent ? { traceparent: context.traceparent } : {}),
  };
  switch (event.type) {
    case 'OrderPlaced':
      return newEvent(
        'order.created',
        { ...ref, items: event.items, total: event.total, placedAt: event.at.toISOString() },
        options,
      );
    case 'OrderPaid':
      return newEvent(
        'order.paid',
        { ...ref, amount: event.amount, paidAt: event.at.toISOString() },
        options,
      );
    case 'OrderShipped':
      return newEvent(
        'order.shipped',
        {
          ...ref,
          carrier: event.carrier,
          trackingNumber: event.trackingNumber,
          shippedAt: event.at.toISOString(),
        },
        options,
      );
    case 'OrderDelivered':
      return newEvent('order.delivered', { ...ref, deliveredAt: event.at.toISOString() }, options);
    case 'OrderCancelled':
      return newEvent(
        'order.cancelled',
        { ...ref, reason: event.reason, cancelledAt: event.at.toISOString() },
        options,
      );
    default: {
      const unreachable: never = event;
      throw new Error(`unmapped event ${JSON.stringify(unreachable)}`);
    }
  }
}

type OrderEventType = Extract<EventType, `order.${string}`>;

/** Each `order.*` integration event's data as the domain event it announces. */
const domainEventOf: { [T in OrderEventType]: (d: EventData<T>) => OrderEvent } = {
  'order.created': (d) => ({
    type: 'OrderPlaced',
    orderId: d.orderId,
    userId: d.userId,
    items: d.items,
    total: d.total,
    at: new Date(d.placedAt),
  }),
  'order.paid': (d) => ({ type: 'OrderPaid', amount: d.amount, at: new Date(d.paidAt) }),
  'order.shipped': (d) => ({
    type: 'OrderShipped',
    carrier: d.carrier,
    trackingNumber: d.trackingNumber,
    at: new Date(d.shippedAt),
  }),
  'order.delivered': (d) => ({ type: 'OrderDelivered', at: new Date(d.deliveredAt) }),
  'order.cancelled': (d) => ({ type: 'OrderCancelled', reason: d.reason, at: new Date(d.cancelledAt) }),
};

/** The domain event behind an `order.*` integration event, with the order it belongs to. */
export function fromIntegrationEvent(
  event: CloudEvent,
): { orderId: string; userId: string; version: number | undefined; event: OrderEvent } | undefined {
  if (!Object.hasOwn(domainEventOf, event.type)) return undefined;
  const toDomain = domainEventOf[event.type as OrderEventType] as (data: unknown) => OrderEvent;
  // Every order.* event carries the order and its customer (the catalog's schemas).
  const { orderId, userId } = event.data as EventData<'order.created'>;
  return { orderId, userId, version: event.streamversion, event: toDomain(event.data) };
}

const dateFields = ['placedAt', 'paidAt', 'shippedAt', 'deliveredAt', 'cancelledAt'] as const;

/** Snapshot form of a state: JSON with ISO dates. */
export function encodeOrderState(state: OrderState): unknown {
  return JSON.parse(JSON.stringify(state));
}

export function decodeOrderState(json: unknown): OrderState {
  const state = { ...(json as Record<string, unknown>) };
  for (const field of dateFields) {
    if (typeof state[field] === 'string') state[field] = new Date(state[field] as string);
  }
  return state as unknown as OrderState;
}
