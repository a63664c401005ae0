import { ordersV1 } from '@conveyor/contracts/grpc';
import { callUnary } from '@conveyor/platform/grpc-client';
import type { Endpoints } from './addresses.ts';
import type { Outcome } from './cli-error.ts';
import { formatProduct, formatProducts } from './format.ts';
import { DEADLINE_MS } from './grpc-clients.ts';
import { anonymously } from './grpc-failure.ts';

export async function listProducts(endpoints: Endpoints, input: { limit?: number; json: boolean }) {
  const response = await anonymously(endpoints, 'orders', (client) =>
    callUnary(
      client,
      client.listProducts,
      { pageSize: input.limit ?? 0, pageToken: '' },
      { deadlineMs: DEADLINE_MS },
    ),
  );
  if (input.json) return { text: JSON.stringify(ordersV1.ListProductsResponse.toJSON(response), null, 2) };
  return { text: formatProducts(response.products) } satisfies Outcome;
}

export async function getProduct(
  endpoints: Endpoints,
  input: { sku: string; json: boolean },
): Promise<Outcome> {
  const response = await anonymously(endpoints, 'orders', (client) =>
    callUnary(client, client.getProduct, { sku: input.sku }, { deadlineMs: DEADLINE_MS }),
  );
  if (!response.product) return { text: 'the service returned no product' };
  if (input.json) return { text: JSON.stringify(ordersV1.Product.toJSON(response.product), null, 2) };
  return { text: formatProduct(response.product) };
}
