import { z } from 'zod';
import * as S from './api-schemas.ts';
import { reads, verifyCaller } from './caller.ts';
import type { GatewayDeps } from './deps.ts';
import { type ApiRoute, route } from './route.ts';
import { historyEntryView, notificationView, orderSummaryView, orderView, productView } from './views.ts';

type Orders = GatewayDeps['backends']['orders'];

const OrderBody = z.object({ order: S.Order });
const statusFilter = { placed: 1, paid: 2, shipped: 3, delivered: 4, cancelled: 5 } as const;

/** Catalog, orders (commands and queries) and the caller's notifications. */
export function orderRoutes(deps: GatewayDeps): ApiRoute[] {
  const { backends } = deps;
  // Resolved per call, so the route table can be built without live clients (OpenAPI, tests).
  const orders = () => backends.orders;
  const read = reads(backends, 'orders');
  const inbox = reads(backends, 'notifications');
  const command = <B extends z.ZodType<object>>(
    path: string,
    summary: string,
    auth: 'user' | 'admin',
    body: B,
    method: 'payOrder' | 'cancelOrder' | 'shipOrder' | 'deliverOrder',
  ) =>
    route({
      method: 'POST',
      path: `/api/orders/{id}/${path}`,
      tag: 'orders',
      summary,
      // `admin` routes are checked by the orders service itself (PERMISSION_DENIED → 403).
      auth,
      params: S.OrderPath,
      body,
      response: OrderBody,
      async handle({ params, body, token }) {
        const rpc = orders()[method] as Orders['payOrder'];
        // The body's fields are named as the command's request fields.
        const request = { orderId: params.id, ...body } as Parameters<typeof rpc>[0];
        const { order } = await backends.call('orders', rpc, request, { token, idempotent: false });
        return { order: orderView(order) };
      },
    });
  return [
    route({
      method: 'GET',
      path: '/api/products',
      tag: 'catalog',
      summary: 'The demo catalog',
      auth: 'none',
      query: S.PageQuery,
      response: S.page('products', S.Product),
      async handle({ query }) {
        const { pageToken = '' } = query;
        const response = await read(orders().listProducts, { pageSize: 100, pageToken });
        return { products: response.products.map(productView), nextPageToken: response.nextPageToken };
      },
    }),
    route({
      method: 'POST',
      path: '/api/orders',
      tag: 'orders',
      summary: 'Place an order (header Idempotency-Key makes retries safe; generated when absent)',
      auth: 'user',
      headers: S.PlaceOrderHeaders,
      body: S.PlaceOrderRequest,
      response: z.object({ order: S.Order, replayed: z.boolean() }),
      status: 201,
      alternate: {
        status: 200,
        description: 'The Idempotency-Key was used before: the first order, replayed',
      },
      async handle({ headers, body, token, status }) {
        const response = await backends.call(
          'orders',
          orders().placeOrder,
          {
            userId: '',
            items: body.items,
            idempotencyKey: headers['Idempotency-Key'] ?? deps.newIdempotencyKey(),
          },
          { token, idempotent: true },
        );
        if (response.replayed) status(200);
        return { order: orderView(response.order), replayed: response.replayed };
      },
    }),
    route({
      method: 'GET',
      path: '/api/orders',
      tag: 'orders',
      summary: "The caller's orders, newest first (admins: everyone's)",
      auth: 'user',
      query: S.OrderListQuery,
      response: S.page('orders', S.OrderSummary),
      async handle({ query, token }) {
        const { status, pageToken = '' } = query;
        const response = await read(
          orders().listOrders,
          { userId: '', status: status ? statusFilter[status] : 0, pageSize: 50, pageToken },
          token,
        );
        return { orders: response.orders.map(orderSummaryView), nextPageToken: response.nextPageToken };
      },
    }),
    route({
      method: 'GET',
      path: '/api/orders/{id}',
      tag: 'orders',
      summary: 'One order (read model)',
      auth: 'user',
      params: S.OrderPath,
      response: OrderBody,
      async handle({ params, token }) {
        const { order } = await read(orders().getOrder, { orderId: params.id }, token);
        return { order: orderView(order) };
      },
    }),
    route({
      method: 'GET',
      path: '/api/orders/{id}/history',
      tag: 'orders',
      summary: 'Every event of the order with the state after it',
      auth: 'user',
      params: S.OrderPath,
      response: z.object({ entries: z.array(S.HistoryEntry) }),
      async handle({ params, token }) {
        const { entries } = await read(orders().getOrderHistory, { orderId: params.id }, token);
        return { entries: entries.map(historyEntryView) };
      },
    }),
    route({
      method: 'GET',
      path: '/api/orders/{id}/at',
      tag: 'orders',
      summary: 'The order as it was after `version` events (time travel)',
      auth: 'user',
      params: S.OrderPath,
      query: S.OrderAtQuery,
      response: OrderBody,
      async handle({ params, query, token }) {
        const request = { orderId: params.id, version: query.version, time: undefined };
        const { order } = await read(orders().getOrderAt, request, token);
        return { order: orderView(order) };
      },
    }),
    command('pay', 'Pay a placed order', 'user', S.Empty, 'payOrder'),
    command('cancel', 'Cancel an order that has not shipped', 'user', S.CancelOrderRequest, 'cancelOrder'),
    command('ship', 'Ship a paid order (admins)', 'admin', S.ShipOrderRequest, 'shipOrder'),
    command('deliver', 'Mark a shipped order delivered (admins)', 'admin', S.Empty, 'deliverOrder'),
    route({
      method: 'GET',
      path: '/api/notifications',
      tag: 'notifications',
      summary: "The caller's notifications, newest first",
      auth: 'user',
      query: S.PageQuery,
      response: S.page('notifications', S.Notification),
      async handle({ query, token }) {
        const caller = await verifyCaller(backends, token);
        const { pageToken = '' } = query;
        const request = { userId: caller.subject, pageSize: 50, pageToken };
        const response = await inbox(backends.notifications.listNotifications, request, token);
        return {
          notifications: response.notifications.map(notificationView),
          nextPageToken: response.nextPageToken,
        };
      },
    }),
  ];
}
