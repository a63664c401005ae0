import { ordersV1 } from '@conveyor/contracts';
import { type GrpcService, toServiceError, unary } from '@conveyor/platform';
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { HistoryEntry } from '../app/order-history.ts';
import type { OrderSummaryView, OrderView } from '../app/order-view.ts';
import type { PlaceOrderInput } from '../app/place-order.ts';
import type { Product } from '../domain/product.ts';
import { orderToProto, productToProto, statusFromProto, summaryToProto } from './order-proto-mapping.ts';

export interface RebuildProgress {
  phase: string;
  processed: number;
  total: number;
}

export interface OrderUseCases {
  listProducts(query: {
    pageSize: number;
    pageToken: string;
  }): Promise<{ items: Product[]; nextPageToken: string }>;
  getProduct(sku: string): Promise<Product>;
  placeOrder(input: PlaceOrderInput): Promise<{ order: OrderView; replayed: boolean }>;
  payOrder(orderId: string): Promise<OrderView>;
  shipOrder(orderId: string, input: { carrier: string; trackingNumber: string }): Promise<OrderView>;
  deliverOrder(orderId: string): Promise<OrderView>;
  cancelOrder(orderId: string, reason: string): Promise<OrderView>;
  getOrder(orderId: string): Promise<OrderView>;
  listOrders(query: {
    userId: string;
    status: OrderView['status'] | undefined;
    pageSize: number;
    pageToken: string;
  }): Promise<{ items: OrderSummaryView[]; nextPageToken: string }>;
  getOrderHistory(orderId: string): Promise<HistoryEntry[]>;
  getOrderAt(orderId: string, at: { version?: number; time?: Date }): Promise<OrderView>;
  rebuildProjections(onProgress: (progress: RebuildProgress) => void): Promise<void>;
  republishEvents(range: { fromPosition: number; toPosition: number }): Promise<number>;
}

/** Protobuf ↔ use cases; errors become status codes in `unary` / toServiceError. */
export function orderGrpcService(app: OrderUseCases, logger: Logger): GrpcService {
  const order = (o: OrderView) => ({ order: orderToProto(o) });
  const implementation: ordersV1.OrderServiceServer = {
    listProducts: unary('ListProducts', logger, async (r: ordersV1.ListProductsRequest) => {
      const page = await app.listProducts({ pageSize: r.pageSize, pageToken: r.pageToken });
      return { products: page.items.map(productToProto), nextPageToken: page.nextPageToken };
    }),
    getProduct: unary('GetProduct', logger, async (r: ordersV1.GetProductRequest) => ({
      product: productToProto(await app.getProduct(r.sku)),
    })),
    placeOrder: unary('PlaceOrder', logger, async (r: ordersV1.PlaceOrderRequest) => {
      const placed = await app.placeOrder({
        userId: r.userId,
        items: r.items,
        idempotencyKey: r.idempotencyKey,
      });
      return { order: orderToProto(placed.order), replayed: placed.replayed };
    }),
    payOrder: unary('PayOrder', logger, async (r: ordersV1.PayOrderRequest) =>
      order(await app.payOrder(r.orderId)),
    ),
    shipOrder: unary('ShipOrder', logger, async (r: ordersV1.ShipOrderRequest) =>
      order(await app.shipOrder(r.orderId, { carrier: r.carrier, trackingNumber: r.trackingNumber })),
    ),
    deliverOrder: unary('DeliverOrder', logger, async (r: ordersV1.DeliverOrderRequest) =>
      order(await app.deliverOrder(r.orderId)),
    ),
    cancelOrder: unary('CancelOrder', logger, async (r: ordersV1.CancelOrderRequest) =>
      order(await app.cancelOrder(r.orderId, r.reason)),
    ),
    getOrder: unary('GetOrder', logger, async (r: ordersV1.GetOrderRequest) =>
      order(await app.getOrder(r.orderId)),
    ),
    listOrders: unary('ListOrders', logger, async (r: ordersV1.ListOrdersRequest) => {
      const page = await app.listOrders({
        userId: r.userId,
        status: statusFromProto(r.status),
        pageSize: r.pageSize,
        pageToken: r.pageToken,
      });
      return { orders: page.items.map(summaryToProto), nextPageToken: page.nextPageToken };
    }),
    getOrderHistory: unary('GetOrderHistory', logger, async (r: ordersV1.GetOrderHistoryRequest) => ({
      entries: (await app.getOrderHistory(r.orderId)).map((e) => ({
        version: e.version,
        eventId: e.eventId,
        eventType: e.eventType,
        recordedAt: e.recordedAt,
        dataJson: JSON.stringify(e.data),
        state: orderToProto(e.state),
      })),
    })),
    getOrderAt: unary('GetOrderAt', logger, async (r: ordersV1.GetOrderAtRequest) =>
      order(
        await app.getOrderAt(r.orderId, {
          ...(r.version !== undefined ? { version: r.version } : {}),
          ...(r.time !== undefined ? { time: r.time } : {}),
        }),
      ),
    ),
    republishEvents: unary('RepublishEvents', logger, async (r: ordersV1.RepublishEventsRequest) => ({
      queued: await app.republishEvents({ fromPosition: r.fromPosition, toPosition: r.toPosition }),
    })),
    rebuildProjections: (
      call: ServerWritableStream<ordersV1.RebuildProjectionsRequest, ordersV1.RebuildProjectionsResponse>,
    ) => {
      app
        .rebuildProjections((p) => {
          if (!call.cancelled) call.write({ phase: p.phase, processed: p.processed, total: p.total });
        })
        .then(
          () => call.end(),
          (error: unknown) => call.emit('error', toServiceError('RebuildProjections', logger, error)),
        );
    },
  };
  return {
    name: 'conveyor.orders.v1.OrderService',
    definition: ordersV1.OrderServiceService,
    implementation,
  };
}
