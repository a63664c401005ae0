import { ordersV1 } from '@conveyor/contracts/grpc';
import type { Endpoints } from './addresses.ts';
import { type Outcome, shown } from './cli-error.ts';
import { formatProduct, formatProducts } from './format.ts';
import { anonymously } from './service-calls.ts';

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
