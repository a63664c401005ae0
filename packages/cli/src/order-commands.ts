import { randomUUID } from 'node:crypto';
import * as ordersV1 from '@conveyor/contracts/grpc/orders';
import { callUnary } from '@conveyor/platform/grpc-client';
import type { Endpoints } from './addresses.ts';
import { CliError, exitCodes, type Outcome, shown } from './cli-error.ts';
import { DEADLINE_MS, isConnected } from './grpc-channel.ts';
import { formatOrder, orderOutcome } from './order-format.ts';
import type { ItemArg } from './order-values.ts';
import { asUser, grpcFailure, newClient } from './service-calls.ts';

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
  const client = await newClient('orders', grpc, endpoints.accessToken());
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
  const { order, replayed } = response;
  const asJson = { order: order ? ordersV1.Order.toJSON(order) : null, replayed, idempotencyKey: key };
  return shown(input.json, asJson, () => {
    if (!order) return 'the service returned no order';
    const heading = replayed ? '(replayed: an order with this key already existed)' : 'placed order';
    return `${heading}\n${formatOrder(order)}\n\nidempotency key: ${key} (placing again with this --key returns this order)`;
  });
}

export async function payOrder(endpoints: Endpoints, input: { id: string; json: boolean }): Promise<Outcome> {
  const response = await asUser(endpoints, 'orders', 'payOrder', { orderId: input.id });
  return orderOutcome(response.order, input.json, 'paid order');
}

export async function shipOrder(
  endpoints: Endpoints,
  input: { id: string; carrier: string; tracking: string; json: boolean },
): Promise<Outcome> {
  const request = { orderId: input.id, carrier: input.carrier, trackingNumber: input.tracking };
  const response = await asUser(endpoints, 'orders', 'shipOrder', request);
  return orderOutcome(response.order, input.json, 'shipped order');
}

export async function deliverOrder(
  endpoints: Endpoints,
  input: { id: string; json: boolean },
): Promise<Outcome> {
  const response = await asUser(endpoints, 'orders', 'deliverOrder', { orderId: input.id });
  return orderOutcome(response.order, input.json, 'delivered order');
}

export async function cancelOrder(
  endpoints: Endpoints,
  input: { id: string; reason: string; json: boolean },
): Promise<Outcome> {
  const response = await asUser(endpoints, 'orders', 'cancelOrder', {
    orderId: input.id,
    reason: input.reason,
  });
  return orderOutcome(response.order, input.json, 'cancelled order');
}
