import { ordersV1 } from '@conveyor/contracts';
import { type GrpcService, unary } from '@conveyor/platform';
import type { Logger } from 'pino';
import type { Product } from '../domain/product.ts';

export interface OrderUseCases {
  listProducts(query: {
    pageSize: number;
    pageToken: string;
  }): Promise<{ items: Product[]; nextPageToken: string }>;
  getProduct(sku: string): Promise<Product>;
}

const toProto = (p: Product): ordersV1.Product => ({
  sku: p.sku,
  name: p.name,
  description: p.description,
  price: { amountMinor: p.price.amountMinor, currency: p.price.currency },
});

export function orderGrpcService(app: OrderUseCases, logger: Logger): GrpcService {
  const implementation: ordersV1.OrderServiceServer = {
    listProducts: unary('ListProducts', logger, async (request: ordersV1.ListProductsRequest) => {
      const page = await app.listProducts({ pageSize: request.pageSize, pageToken: request.pageToken });
      return { products: page.items.map(toProto), nextPageToken: page.nextPageToken };
    }),
    getProduct: unary('GetProduct', logger, async (request: ordersV1.GetProductRequest) => ({
      product: toProto(await app.getProduct(request.sku)),
    })),
  };
  return {
    name: 'conveyor.orders.v1.OrderService',
    definition: ordersV1.OrderServiceService,
    implementation,
  };
}
