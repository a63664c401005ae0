import * as ordersV1 from '@conveyor/contracts/grpc/orders';
import type { Endpoints } from './addresses.ts';
import { type Outcome, shown } from './cli-error.ts';
import { formatProduct, formatProducts, formatTime } from './format.ts';
import { DEADLINE_MS } from './grpc-channel.ts';
import { formatHistory, formatOrderSummaries, orderOutcome, orderStatusValue } from './order-format.ts';
import type { OrderAt, OrderStatusName } from './order-values.ts';
import { anonymously, asUser } from './service-calls.ts';

/** GetOrder: the read model's view of one order. */
export async function showOrder(
  endpoints: Endpoints,
  input: { id: string; json: boolean },
): Promise<Outcome> {
  const response = await asUser(endpoints, 'orders', 'getOrder', { orderId: input.id });
  return orderOutcome(response.order, input.json, '');
}

/** ListOrders: a user's orders, newest first, optionally in one status. */
export async function listOrders(
  endpoints: Endpoints,
  input: { user?: string; status?: OrderStatusName; limit?: number; json: boolean },
): Promise<Outcome> {
  const response = await asUser(endpoints, 'orders', 'listOrders', {
    userId: input.user ?? '',
    status: orderStatusValue(input.status),
    pageSize: input.limit ?? 0,
    pageToken: '',
  });
  return shown(input.json, ordersV1.ListOrdersResponse.toJSON(response), () => {
    if (response.orders.length === 0) return input.status ? `no ${input.status} orders` : 'no orders yet';
    const more = response.nextPageToken
      ? `\n\n(the newest ${response.orders.length}; more with --limit, up to 500)`
      : '';
    return `${formatOrderSummaries(response.orders)}${more}`;
  });
}

/** GetOrderHistory: every event of the order with the state after it. */
export async function orderHistory(
  endpoints: Endpoints,
  input: { id: string; json: boolean },
): Promise<Outcome> {
  const response = await asUser(endpoints, 'orders', 'getOrderHistory', { orderId: input.id });
  return shown(input.json, ordersV1.GetOrderHistoryResponse.toJSON(response), () =>
    formatHistory(response.entries),
  );
}

/** GetOrderAt: the order as it was after its Nth event, or at an instant. */
export async function orderAt(
  endpoints: Endpoints,
  input: { id: string; at: OrderAt; json: boolean },
): Promise<Outcome> {
  const response = await asUser(endpoints, 'orders', 'getOrderAt', { orderId: input.id, ...input.at });
  const heading =
    'version' in input.at ? `as of version ${input.at.version}` : `as of ${formatTime(input.at.time)}`;
  return orderOutcome(response.order, input.json, heading);
}

/**
 * RepublishEvents, queueing the integration events of a position range for publishing again:
 * `orders republish` (the event store) and `users republish` (users' event log).
 */
export async function republishEvents(
  endpoints: Endpoints,
  input: { service: 'orders' | 'users'; from: number; to: number; json: boolean },
): Promise<Outcome> {
  const request = { fromPosition: input.from, toPosition: input.to };
  const response = await asUser(endpoints, input.service, 'republishEvents', request, DEADLINE_MS * 12);
  if (input.json) return { text: JSON.stringify(ordersV1.RepublishEventsResponse.toJSON(response)) };
  const range =
    input.to === 0 ? `from position ${input.from} to the newest` : `positions ${input.from}-${input.to}`;
  return { text: `queued ${response.queued} event(s) for publishing again (${range})` };
}

/** The catalog, without a login. */
export async function listProducts(
  endpoints: Endpoints,
  input: { limit?: number; json: boolean },
): Promise<Outcome> {
  const request = { pageSize: input.limit ?? 0, pageToken: '' };
  const response = await anonymously(endpoints, 'orders', 'listProducts', request);
  return shown(input.json, ordersV1.ListProductsResponse.toJSON(response), () =>
    formatProducts(response.products),
  );
}

export async function getProduct(
  endpoints: Endpoints,
  input: { sku: string; json: boolean },
): Promise<Outcome> {
  const { product } = await anonymously(endpoints, 'orders', 'getProduct', { sku: input.sku });
  if (!product) return { text: 'the service returned no product' };
  return shown(input.json, ordersV1.Product.toJSON(product), () => formatProduct(product));
}
