import { z } from 'zod';
import * as S from './api-schemas.ts';
import { verifyCaller } from './caller.ts';
import type { GatewayDeps } from './deps.ts';
import { problem } from './problem.ts';
import { parseWith } from './request-context.ts';
import type { Route } from './route.ts';

type Orders = GatewayDeps['backends']['orders'];

import { historyEntryView, notificationView, orderSummaryView, orderView, productView } from './views.ts';

const OrderBody = z.object({ order: S.Order });
const statusFilter = { placed: 1, paid: 2, shipped: 3, delivered: 4, cancelled: 5 } as const;
const StatusQuery = z.enum(['placed', 'paid', 'shipped', 'delivered', 'cancelled']).optional();

/** Catalog, orders (commands and queries) and the caller's notifications. */
export function orderRoutes(deps: GatewayDeps): Route[] {
  const { backends } = deps;
  // Resolved per call, so the route table can be built without live clients (OpenAPI, tests).
  const orders = () => backends.orders;
  const command = (
    path: string,
    summary: string,
    auth: 'user' | 'admin',
    request: z.ZodType,
    toGrpc: (id: string, body: never) => object,
    method: 'payOrder' | 'cancelOrder' | 'shipOrder' | 'deliverOrder',
  ): Route => ({
    method: 'POST',
    path: `/api/orders/{id}/${path}`,
    tag: 'orders',
    summary,
    auth,
    request,
    response: OrderBody,
    async handle(ctx) {
      // `admin` routes are checked by the orders service itself (PERMISSION_DENIED → 403).
      const token = ctx.requireToken();
      const body = await ctx.body(request);
      const id = parseWith(S.OrderId, ctx.params.id, 'id');
      const { order } = await backends.call(
        'orders',
        orders()[method] as Orders['payOrder'],
        toGrpc(id, body as never) as never,
        {
          token,
          idempotent: false,
        },
      );
      return { order: orderView(order) };
    },
  });
  return [
    {
      method: 'GET',
      path: '/api/products',
      tag: 'catalog',
      summary: 'The demo catalog',
      auth: 'none',
      query: { pageToken: 'from a previous nextPageToken' },
      response: S.page('products', S.Product),
      async handle(ctx) {
        const response = await backends.call(
          'orders',
          orders().listProducts,
          { pageSize: 100, pageToken: ctx.query.get('pageToken') ?? '' },
          { idempotent: true },
        );
        return { products: response.products.map(productView), nextPageToken: response.nextPageToken };
      },
    },
    {
      method: 'POST',
      path: '/api/orders',
      tag: 'orders',
      summary: 'Place an order (header Idempotency-Key makes retries safe; generated when absent)',
      auth: 'user',
      request: S.PlaceOrderRequest,
      response: z.object({ order: S.Order, replayed: z.boolean() }),
      status: 201,
      alternate: {
        status: 200,
        description: 'The Idempotency-Key was used before: the first order, replayed',
      },
      async handle(ctx) {
        const token = ctx.requireToken();
        const body = await ctx.body(S.PlaceOrderRequest);
        const header = ctx.req.headers['idempotency-key'];
        const key =
          header === undefined
            ? deps.newIdempotencyKey()
            : parseWith(S.IdempotencyKey, header, 'Idempotency-Key');
        const response = await backends.call(
          'orders',
          orders().placeOrder,
          { userId: '', items: body.items, idempotencyKey: String(key) },
          { token, idempotent: true },
        );
        if (response.replayed) ctx.setStatus(200);
        return { order: orderView(response.order), replayed: response.replayed };
      },
    },
    {
      method: 'GET',
      path: '/api/orders',
      tag: 'orders',
      summary: "The caller's orders, newest first (admins: everyone's)",
      auth: 'user',
      query: { status: 'placed | paid | shipped | delivered | cancelled', pageToken: 'from nextPageToken' },
      response: S.page('orders', S.OrderSummary),
      async handle(ctx) {
        const status = parseWith(StatusQuery, ctx.query.get('status') ?? undefined, 'status');
        const response = await backends.call(
          'orders',
          orders().listOrders,
          {
            userId: '',
            status: status ? statusFilter[status] : 0,
            pageSize: 50,
            pageToken: ctx.query.get('pageToken') ?? '',
          },
          { token: ctx.requireToken(), idempotent: true },
        );
        return { orders: response.orders.map(orderSummaryView), nextPageToken: response.nextPageToken };
      },
    },
    {
      method: 'GET',
      path: '/api/orders/{id}',
      tag: 'orders',
      summary: 'One order (read model)',
      auth: 'user',
      response: OrderBody,
      async handle(ctx) {
        const { order } = await backends.call(
          'orders',
          orders().getOrder,
          { orderId: parseWith(S.OrderId, ctx.params.id, 'id') },
          { token: ctx.requireToken(), idempotent: true },
        );
        return { order: orderView(order) };
      },
    },
    {
      method: 'GET',
      path: '/api/orders/{id}/history',
      tag: 'orders',
      summary: 'Every event of the order with the state after it',
      auth: 'user',
      response: z.object({ entries: z.array(S.HistoryEntry) }),
      async handle(ctx) {
        const { entries } = await backends.call(
          'orders',
          orders().getOrderHistory,
          { orderId: parseWith(S.OrderId, ctx.params.id, 'id') },
          { token: ctx.requireToken(), idempotent: true },
        );
        return { entries: entries.map(historyEntryView) };
      },
    },
    {
      method: 'GET',
      path: '/api/orders/{id}/at',
      tag: 'orders',
      summary: 'The order as it was after `version` events (time travel)',
      auth: 'user',
      query: { version: 'required, 1 or more' },
      response: OrderBody,
      async handle(ctx) {
        const raw = ctx.query.get('version');
        if (raw === null) throw problem.badRequest('version', 'is required');
        const version = parseWith(
          z.coerce
            .number({ error: 'must be a whole number' })
            .int('must be a whole number')
            .min(1, 'must be 1 or more'),
          raw,
          'version',
        );
        const { order } = await backends.call(
          'orders',
          orders().getOrderAt,
          { orderId: parseWith(S.OrderId, ctx.params.id, 'id'), version, time: undefined },
          { token: ctx.requireToken(), idempotent: true },
        );
        return { order: orderView(order) };
      },
    },
    command('pay', 'Pay a placed order', 'user', S.Empty, (orderId) => ({ orderId }), 'payOrder'),
    command(
      'cancel',
      'Cancel an order that has not shipped',
      'user',
      S.CancelOrderRequest,
      (orderId, body: { reason: string }) => ({ orderId, reason: body.reason }),
      'cancelOrder',
    ),
    command(
      'ship',
      'Ship a paid order (admins)',
      'admin',
      S.ShipOrderRequest,
      (orderId, body: { carrier: string; trackingNumber: string }) => ({ orderId, ...body }),
      'shipOrder',
    ),
    command(
      'deliver',
      'Mark a shipped order delivered (admins)',
      'admin',
      S.Empty,
      (orderId) => ({ orderId }),
      'deliverOrder',
    ),
    {
      method: 'GET',
      path: '/api/notifications',
      tag: 'notifications',
      summary: "The caller's notifications, newest first",
      auth: 'user',
      query: { pageToken: 'from nextPageToken' },
      response: S.page('notifications', S.Notification),
      async handle(ctx) {
        const caller = await verifyCaller(backends, ctx.requireToken());
        const response = await backends.call(
          'notifications',
          backends.notifications.listNotifications,
          { userId: caller.subject, pageSize: 50, pageToken: ctx.query.get('pageToken') ?? '' },
          { token: caller.token, idempotent: true },
        );
        return {
          notifications: response.notifications.map(notificationView),
          nextPageToken: response.nextPageToken,
        };
      },
    },
  ];
}
