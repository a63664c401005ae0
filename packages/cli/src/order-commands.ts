import { randomUUID } from 'node:crypto';
import { ordersV1 } from '@conveyor/contracts/grpc';
import { callUnary } from '@conveyor/platform/grpc-client';
import type { Endpoints } from './addresses.ts';
import { CliError, exitCodes, type Outcome } from './cli-error.ts';
import { DEADLINE_MS, isConnected, ordersClient } from './grpc-clients.ts';
import { asUser, grpcFailure } from './grpc-failure.ts';
import { formatOrder } from './order-format.ts';
import { orderOutcome } from './order-outcome.ts';
import type { ItemArg } from './order-values.ts';

type OrdersClient = ordersV1.OrderServiceClient;

/**
 * PlaceOrder with the given idempotency key, else a new UUID; the key is printed so that
 * the same order can be asked for again. When the call fails after reaching the service
 * (a timeout, say), the order may exist: the error says which key to retry with.
 */
export async function placeOrder(
  endpoints: Endpoints,
  input: { user?: string; items: ItemArg[]; key?: string; json: boolean },
): Promise<Outcome> {
  const key = input.key ?? randomUUID();
  const { grpc } = endpoints.target('orders');
  const client = ordersClient(grpc, endpoints.accessToken());
  const request = { userId: input.user ?? '', items: input.items, idempotencyKey: key };
  let response: ordersV1.PlaceOrderResponse;
  try {
    response = await callUnary(client, client.placeOrder, request, { deadlineMs: DEADLINE_MS });
  } catch (error) {
    const connected = isConnected(client);
    const failure = grpcFailure(error, 'orders', grpc, connected);
    if (!connected || failure.exitCode !== exitCodes.failure) throw failure;
    throw new CliError(
      `${failure.message}\nthe order may have been placed: retry with --key ${key} to get it rather than a second one`,
      failure.exitCode,
    );
  } finally {
    client.close();
  }
  if (input.json) {
    const order = response.order ? ordersV1.Order.toJSON(response.order) : null;
    return { text: JSON.stringify({ order, replayed: response.replayed, idempotencyKey: key }, null, 2) };
  }
  if (!response.order) return { text: 'the service returned no order' };
  const heading = response.replayed ? '(replayed: an order with this key already existed)' : 'placed order';
  return {
    text:
      `${heading}\n${formatOrder(response.order)}\n\n` +
      `idempotency key: ${key} (placing again with this --key returns this order)`,
  };
}

/** A command on one order; prints the order after it. */
async function changeOrder(
  endpoints: Endpoints,
  json: boolean,
  heading: string,
  call: (client: OrdersClient) => Promise<{ order: ordersV1.Order | undefined }>,
): Promise<Outcome> {
  const response = await asUser(endpoints, 'orders', call);
  return orderOutcome(response.order, json, heading);
}

export function payOrder(endpoints: Endpoints, input: { id: string; json: boolean }): Promise<Outcome> {
  return changeOrder(endpoints, input.json, 'paid order', (client) =>
    callUnary(client, client.payOrder, { orderId: input.id }, { deadlineMs: DEADLINE_MS }),
  );
}

export function shipOrder(
  endpoints: Endpoints,
  input: { id: string; carrier: string; tracking: string; json: boolean },
): Promise<Outcome> {
  const request = { orderId: input.id, carrier: input.carrier, trackingNumber: input.tracking };
  return changeOrder(endpoints, input.json, 'shipped order', (client) =>
    callUnary(client, client.shipOrder, request, { deadlineMs: DEADLINE_MS }),
  );
}

export function deliverOrder(endpoints: Endpoints, input: { id: string; json: boolean }): Promise<Outcome> {
  return changeOrder(endpoints, input.json, 'delivered order', (client) =>
    callUnary(client, client.deliverOrder, { orderId: input.id }, { deadlineMs: DEADLINE_MS }),
  );
}

export function cancelOrder(
  endpoints: Endpoints,
  input: { id: string; reason: string; json: boolean },
): Promise<Outcome> {
  const request = { orderId: input.id, reason: input.reason };
  return changeOrder(endpoints, input.json, 'cancelled order', (client) =>
    callUnary(client, client.cancelOrder, request, { deadlineMs: DEADLINE_MS }),
  );
}
