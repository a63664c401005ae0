import { z } from 'zod';
import { streamEvents } from './define-event.ts';
import { money, timestamp, uuid } from './schema-parts.ts';

/** ORDERS events: each names its sequence by `orderId`. */
const orderEvent = streamEvents('ORDERS', 'orderId');

const lineItem = z.object({
  sku: z.string().min(1).max(64),
  quantity: z.number().int().positive().max(1000),
  unitPrice: money,
});

const orderRef = { orderId: uuid, userId: uuid };
const exampleIds = {
  orderId: '0192f3a1-0000-7000-8000-00000000a001',
  userId: '0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e',
};

export const orderCreatedV1 = orderEvent({
  type: 'order.created',
  version: 1,
  description: 'An order was placed, priced from the server-side catalog.',
  schema: z.object({ ...orderRef, items: z.array(lineItem).min(1), total: money, placedAt: timestamp }),
  examples: [
    {
      ...exampleIds,
      items: [{ sku: 'MUG-001', quantity: 2, unitPrice: { amountMinor: 1250, currency: 'EUR' } }],
      total: { amountMinor: 2500, currency: 'EUR' },
      placedAt: '2026-11-24T09:31:00.000Z',
    },
  ],
});

export const orderPaidV1 = orderEvent({
  type: 'order.paid',
  version: 1,
  description: 'Payment for an order was captured.',
  schema: z.object({ ...orderRef, amount: money, paidAt: timestamp }),
  examples: [
    { ...exampleIds, amount: { amountMinor: 2500, currency: 'EUR' }, paidAt: '2026-11-24T09:32:00.000Z' },
  ],
});

export const orderShippedV1 = orderEvent({
  type: 'order.shipped',
  version: 1,
  description: 'An order left the warehouse.',
  schema: z.object({
    ...orderRef,
    carrier: z.string().min(1).max(64),
    trackingNumber: z.string().min(1).max(64),
    shippedAt: timestamp,
  }),
  examples: [
    { ...exampleIds, carrier: 'DHL', trackingNumber: 'JD0146000034', shippedAt: '2026-11-25T08:00:00.000Z' },
  ],
});

export const orderDeliveredV1 = orderEvent({
  type: 'order.delivered',
  version: 1,
  description: 'An order reached its customer.',
  schema: z.object({ ...orderRef, deliveredAt: timestamp }),
  examples: [{ ...exampleIds, deliveredAt: '2026-11-26T14:00:00.000Z' }],
});

export const orderCancelledV1 = orderEvent({
  type: 'order.cancelled',
  version: 1,
  description: 'An order was cancelled before it shipped.',
  schema: z.object({ ...orderRef, reason: z.string().min(1).max(500), cancelledAt: timestamp }),
  examples: [{ ...exampleIds, reason: 'changed my mind', cancelledAt: '2026-11-24T10:00:00.000Z' }],
});
