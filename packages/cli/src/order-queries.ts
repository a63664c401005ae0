import { ordersV1 } from '@conveyor/contracts/grpc';
import { callUnary } from '@conveyor/platform/grpc-client';
import type { Endpoints } from './addresses.ts';
import type { Outcome } from './cli-error.ts';
import { formatTime } from './format.ts';
import { DEADLINE_MS } from './grpc-clients.ts';
import { asUser } from './grpc-failure.ts';
import { formatHistory, formatOrderSummaries } from './order-format.ts';
import { orderOutcome } from './order-outcome.ts';
import { orderStatusValue } from './order-status.ts';
import type { OrderAt, OrderStatusName } from './order-values.ts';

/** GetOrder: the read model's view of one order. */
export async function showOrder(
  endpoints: Endpoints,
  input: { id: string; json: boolean },
): Promise<Outcome> {
  const response = await asUser(endpoints, 'orders', (client) =>
    callUnary(client, client.getOrder, { orderId: input.id }, { deadlineMs: DEADLINE_MS }),
  );
  return orderOutcome(response.order, input.json, '');
}

/** ListOrders: a user's orders, newest first, optionally in one status. */
export async function listOrders(
  endpoints: Endpoints,
  input: { user?: string; status?: OrderStatusName; limit?: number; json: boolean },
): Promise<Outcome> {
  const request = {
    userId: input.user ?? '',
    status: orderStatusValue(input.status),
    pageSize: input.limit ?? 0,
    pageToken: '',
  };
  const response = await asUser(endpoints, 'orders', (client) =>
    callUnary(client, client.listOrders, request, { deadlineMs: DEADLINE_MS }),
  );
  if (input.json) return { text: JSON.stringify(ordersV1.ListOrdersResponse.toJSON(response), null, 2) };
  if (response.orders.length === 0) {
    return { text: input.status ? `no ${input.status} orders` : 'no orders yet' };
  }
  const more = response.nextPageToken
    ? `\n\n(the newest ${response.orders.length}; more with --limit, up to 500)`
    : '';
  return { text: `${formatOrderSummaries(response.orders)}${more}` };
}

/** GetOrderHistory: every event of the order with the state after it. */
export async function orderHistory(
  endpoints: Endpoints,
  input: { id: string; json: boolean },
): Promise<Outcome> {
  const response = await asUser(endpoints, 'orders', (client) =>
    callUnary(client, client.getOrderHistory, { orderId: input.id }, { deadlineMs: DEADLINE_MS }),
  );
  if (input.json) return { text: JSON.stringify(ordersV1.GetOrderHistoryResponse.toJSON(response), null, 2) };
  return { text: formatHistory(response.entries) };
}

/** GetOrderAt: the order as it was after its Nth event, or at an instant. */
export async function orderAt(
  endpoints: Endpoints,
  input: { id: string; at: OrderAt; json: boolean },
): Promise<Outcome> {
  const request = { orderId: input.id, ...input.at };
  const response = await asUser(endpoints, 'orders', (client) =>
    callUnary(client, client.getOrderAt, request, { deadlineMs: DEADLINE_MS }),
  );
  const heading =
    'version' in input.at ? `as of version ${input.at.version}` : `as of ${formatTime(input.at.time)}`;
  return orderOutcome(response.order, input.json, heading);
}

/** RepublishEvents: queue the integration events of a position range for publishing again. */
/** `orders republish` (the event store) and `users republish` (users' event log). */
export async function republishEvents(
  endpoints: Endpoints,
  input: { service: 'orders' | 'users'; from: number; to: number; json: boolean },
): Promise<Outcome> {
  const request = { fromPosition: input.from, toPosition: input.to };
  const options = { deadlineMs: DEADLINE_MS * 12 };
  const response =
    input.service === 'orders'
      ? await asUser(endpoints, 'orders', (client) =>
          callUnary(client, client.republishEvents, request, options),
        )
      : await asUser(endpoints, 'users', (client) =>
          callUnary(client, client.republishEvents, request, options),
        );
  if (input.json) return { text: JSON.stringify(ordersV1.RepublishEventsResponse.toJSON(response)) };
  const range =
    input.to === 0 ? `from position ${input.from} to the newest` : `positions ${input.from}-${input.to}`;
  return { text: `queued ${response.queued} event(s) for publishing again (${range})` };
}
