import { ordersV1 } from '@conveyor/contracts';
import { type GrpcService, toServiceError, unary } from '@conveyor/platform';
import {
  authenticated,
  authorized,
  bearerToken,
  type Principal,
  requireOwnerOrAdmin,
  requireRole,
  type TokenVerifier,
} from '@conveyor/platform/auth';
import { AppError } from '@conveyor/platform/errors';
import { requireUuid } from '@conveyor/platform/validation';
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
  /** The user an order belongs to, from the event store; NOT_FOUND when there is no such order. */
  orderOwner(orderId: string): Promise<string>;
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

/** Whether a user exists (not erased), asked with the caller's token. */
export interface UserDirectory {
  exists(userId: string, token: string): Promise<boolean>;
}

/**
 * The user a customer acts for: themselves. Admins may name anyone (empty =
 * themselves); services place and list no orders.
 */
function actingFor(principal: Principal, requested: string): string {
  requireRole(principal, ['customer', 'admin']);
  if (requested === '' || requested === principal.subject) return principal.subject;
  if (principal.role !== 'admin')
    throw new AppError('PERMISSION_DENIED', 'user_id: customers can only act for themselves');
  return requested;
}

/**
 * Protobuf ↔ use cases; errors become status codes in `unary` / toServiceError.
 * Every call except the catalog needs a verified token: customers see and
 * change only their own orders; shipping, delivery, rebuild and republish
 * are for admins.
 */
export function orderGrpcService(
  app: OrderUseCases,
  logger: Logger,
  verifier: TokenVerifier,
  users: UserDirectory,
): GrpcService {
  const order = (o: OrderView) => ({ order: orderToProto(o) });
  const signedIn = <Req, Res>(handler: (request: Req, principal: Principal) => Promise<Res>) =>
    authenticated(verifier, handler);
  const admin = <Req, Res>(handler: (request: Req) => Promise<Res>) =>
    authorized(verifier, ['admin'], handler);
  /** Runs `change` only when the caller owns the order or is an admin. */
  const asOwner = async <T>(principal: Principal, orderId: string, change: () => Promise<T>) => {
    requireOwnerOrAdmin(principal, await app.orderOwner(orderId), `order ${orderId}`);
    return change();
  };
  const owned = (principal: Principal, o: OrderView) => {
    requireOwnerOrAdmin(principal, o.userId, `order ${o.orderId}`);
    return o;
  };
  const implementation: ordersV1.OrderServiceServer = {
    listProducts: unary('ListProducts', logger, async (r: ordersV1.ListProductsRequest) => {
      const page = await app.listProducts({ pageSize: r.pageSize, pageToken: r.pageToken });
      return { products: page.items.map(productToProto), nextPageToken: page.nextPageToken };
    }),
    getProduct: unary('GetProduct', logger, async (r: ordersV1.GetProductRequest) => ({
      product: productToProto(await app.getProduct(r.sku)),
    })),
    placeOrder: unary(
      'PlaceOrder',
      logger,
      authenticated(verifier, async (r: ordersV1.PlaceOrderRequest, principal, call) => {
        const userId = actingFor(principal, r.userId);
        // An admin ordering for someone else names a user that must exist: an order for nobody
        // would be stored, and its confirmation would wait for contact details that never come.
        if (userId !== principal.subject) {
          requireUuid(userId, 'user_id');
          if (!(await users.exists(userId, bearerToken(call.metadata))))
            throw new AppError('NOT_FOUND', `user_id: no user ${userId} (never created, or erased)`);
        }
        const placed = await app.placeOrder({
          userId,
          items: r.items,
          idempotencyKey: r.idempotencyKey,
        });
        return { order: orderToProto(placed.order), replayed: placed.replayed };
      }),
    ),
    payOrder: unary(
      'PayOrder',
      logger,
      signedIn(async (r: ordersV1.PayOrderRequest, principal) =>
        order(await asOwner(principal, r.orderId, () => app.payOrder(r.orderId))),
      ),
    ),
    shipOrder: unary(
      'ShipOrder',
      logger,
      admin(async (r: ordersV1.ShipOrderRequest) =>
        order(await app.shipOrder(r.orderId, { carrier: r.carrier, trackingNumber: r.trackingNumber })),
      ),
    ),
    deliverOrder: unary(
      'DeliverOrder',
      logger,
      admin(async (r: ordersV1.DeliverOrderRequest) => order(await app.deliverOrder(r.orderId))),
    ),
    cancelOrder: unary(
      'CancelOrder',
      logger,
      signedIn(async (r: ordersV1.CancelOrderRequest, principal) =>
        order(await asOwner(principal, r.orderId, () => app.cancelOrder(r.orderId, r.reason))),
      ),
    ),
    getOrder: unary(
      'GetOrder',
      logger,
      signedIn(async (r: ordersV1.GetOrderRequest, principal) =>
        order(owned(principal, await app.getOrder(r.orderId))),
      ),
    ),
    listOrders: unary(
      'ListOrders',
      logger,
      signedIn(async (r: ordersV1.ListOrdersRequest, principal) => {
        const page = await app.listOrders({
          userId: actingFor(principal, r.userId),
          status: statusFromProto(r.status),
          pageSize: r.pageSize,
          pageToken: r.pageToken,
        });
        return { orders: page.items.map(summaryToProto), nextPageToken: page.nextPageToken };
      }),
    ),
    getOrderHistory: unary(
      'GetOrderHistory',
      logger,
      signedIn(async (r: ordersV1.GetOrderHistoryRequest, principal) => {
        const entries = await asOwner(principal, r.orderId, () => app.getOrderHistory(r.orderId));
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
    ),
    getOrderAt: unary(
      'GetOrderAt',
      logger,
      signedIn(async (r: ordersV1.GetOrderAtRequest, principal) =>
        order(
          await asOwner(principal, r.orderId, () =>
            app.getOrderAt(r.orderId, {
              ...(r.version !== undefined ? { version: r.version } : {}),
              ...(r.time !== undefined ? { time: r.time } : {}),
            }),
          ),
        ),
      ),
    ),
    republishEvents: unary(
      'RepublishEvents',
      logger,
      admin(async (r: ordersV1.RepublishEventsRequest) => ({
        queued: await app.republishEvents({ fromPosition: r.fromPosition, toPosition: r.toPosition }),
      })),
    ),
    rebuildProjections: (
      call: ServerWritableStream<ordersV1.RebuildProjectionsRequest, ordersV1.RebuildProjectionsResponse>,
    ) => {
      const fail = (error: unknown) =>
        call.emit('error', toServiceError('RebuildProjections', logger, error));
      Promise.resolve()
        .then(async () => requireRole(await verifier.verify(bearerToken(call.metadata)), ['admin']))
        .then(() =>
          app.rebuildProjections((p) => {
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
