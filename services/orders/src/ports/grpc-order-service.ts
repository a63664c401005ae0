import { ordersV1 } from '@conveyor/contracts';
import { type GrpcService, toServiceError, unary } from '@conveyor/platform';
import { authenticated, bearerToken, type Principal, type TokenVerifier } from '@conveyor/platform/auth';
import type { Metadata, ServerWritableStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { OrderApp } from '../app/build-app.ts';
import type { Caller } from '../app/caller.ts';
import type { OrderView } from '../app/order-view.ts';
import { orderToProto, productToProto, statusFromProto, summaryToProto } from './order-proto-mapping.ts';

/** The use case's caller: the verified token's user and role, and the token to act on their behalf. */
const callerOf = (principal: Principal, metadata: Metadata): Caller => ({
  subject: principal.subject,
  role: principal.role,
  token: bearerToken(metadata),
});

/**
 * Protobuf ↔ use cases; errors become status codes in `unary` / toServiceError. Every call except
 * the catalog needs a verified token; who may do what with which order is the use cases' rule.
 */
export function orderGrpcService(app: OrderApp, logger: Logger, verifier: TokenVerifier): GrpcService {
  const order = (o: OrderView) => ({ order: orderToProto(o) });
  /** A unary method for a verified caller; errors become status codes in `unary`. */
  const signedIn = <Req, Res>(method: string, handler: (request: Req, caller: Caller) => Promise<Res>) =>
    unary(
      method,
      logger,
      authenticated(verifier, (request: Req, principal, call: { metadata: Metadata }) =>
        handler(request, callerOf(principal, call.metadata)),
      ),
    );
  const implementation: ordersV1.OrderServiceServer = {
    listProducts: unary('ListProducts', logger, async (r: ordersV1.ListProductsRequest) => {
      const page = await app.listProducts({ pageSize: r.pageSize, pageToken: r.pageToken });
      return { products: page.items.map(productToProto), nextPageToken: page.nextPageToken };
    }),
    getProduct: unary('GetProduct', logger, async (r: ordersV1.GetProductRequest) => ({
      product: productToProto(await app.getProduct(r.sku)),
    })),
    placeOrder: signedIn('PlaceOrder', async (r: ordersV1.PlaceOrderRequest, caller) => {
      const placed = await app.placeOrder(caller, {
        userId: r.userId,
        items: r.items,
        idempotencyKey: r.idempotencyKey,
      });
      return { order: orderToProto(placed.order), replayed: placed.replayed };
    }),
    payOrder: signedIn('PayOrder', async (r: ordersV1.PayOrderRequest, caller) =>
      order(await app.payOrder(caller, r.orderId)),
    ),
    shipOrder: signedIn('ShipOrder', async (r: ordersV1.ShipOrderRequest, caller) =>
      order(await app.shipOrder(caller, r.orderId, { carrier: r.carrier, trackingNumber: r.trackingNumber })),
    ),
    deliverOrder: signedIn('DeliverOrder', async (r: ordersV1.DeliverOrderRequest, caller) =>
      order(await app.deliverOrder(caller, r.orderId)),
    ),
    cancelOrder: signedIn('CancelOrder', async (r: ordersV1.CancelOrderRequest, caller) =>
      order(await app.cancelOrder(caller, r.orderId, r.reason)),
    ),
    getOrder: signedIn('GetOrder', async (r: ordersV1.GetOrderRequest, caller) =>
      order(await app.getOrder(caller, r.orderId)),
    ),
    listOrders: signedIn('ListOrders', async (r: ordersV1.ListOrdersRequest, caller) => {
      const page = await app.listOrders(caller, {
        userId: r.userId,
        status: statusFromProto(r.status),
        pageSize: r.pageSize,
        pageToken: r.pageToken,
      });
      return { orders: page.items.map(summaryToProto), nextPageToken: page.nextPageToken };
    }),
    getOrderHistory: signedIn('GetOrderHistory', async (r: ordersV1.GetOrderHistoryRequest, caller) => {
      const entries = await app.getOrderHistory(caller, r.orderId);
      return {
        entries: entries.map((e) => ({
          version: e.version,
          eventId: e.eventId,
          eventType: e.eventType,
          recordedAt: e.recordedAt,
          dataJson: JSON.stringify(e.data),
          state: orderToProto(e.state),
        })),
      };
    }),
    getOrderAt: signedIn('GetOrderAt', async (r: ordersV1.GetOrderAtRequest, caller) =>
      order(
        await app.getOrderAt(caller, r.orderId, {
          ...(r.version !== undefined ? { version: r.version } : {}),
          ...(r.time !== undefined ? { time: r.time } : {}),
        }),
      ),
    ),
    republishEvents: signedIn('RepublishEvents', async (r: ordersV1.RepublishEventsRequest, caller) => ({
      queued: await app.republishEvents(caller, { fromPosition: r.fromPosition, toPosition: r.toPosition }),
    })),
    rebuildProjections: (
      call: ServerWritableStream<ordersV1.RebuildProjectionsRequest, ordersV1.RebuildProjectionsResponse>,
    ) => {
      const fail = (error: unknown) =>
        call.emit('error', toServiceError('RebuildProjections', logger, error));
      Promise.resolve()
        .then(async () => callerOf(await verifier.verify(bearerToken(call.metadata)), call.metadata))
        .then((caller) =>
          app.rebuildProjections(caller, (p) => {
            if (!call.cancelled) call.write({ phase: p.phase, processed: p.processed, total: p.total });
          }),
        )
        .then(() => call.end(), fail);
    },
  };
  return {
    name: 'conveyor.orders.v1.OrderService',
    definition: ordersV1.OrderServiceService,
    implementation,
  };
}
