import { status } from '@grpc/grpc-js';
import * as S from './api-schemas.ts';
import { verifyCaller } from './caller.ts';
import type { GatewayDeps } from './deps.ts';
import { type ApiRoute, route } from './route.ts';
import { pollInto } from './sse.ts';
import { notificationView, orderView } from './views.ts';

/**
 * Live views for the console. The gateway consumes no events: each stream
 * polls the read side over gRPC on a bounded interval and sends only
 * changes (see ADR 0015 for why).
 */
export function eventRoutes(deps: GatewayDeps): ApiRoute[] {
  const { backends } = deps;
  return [
    route({
      method: 'GET',
      path: '/api/events/orders/{id}',
      tag: 'events',
      summary: 'Event stream: `order` whenever the order changes (version or status)',
      auth: 'user',
      params: S.OrderPath,
      response: 'sse',
      async handle({ res, params, token }) {
        const orderId = params.id;
        const caller = await verifyCaller(backends, token);
        const get = () =>
          backends.call('orders', backends.orders.getOrder, { orderId }, { token, idempotent: true });
        // Fail before the stream starts (401/403/404 as plain problems). A just-placed order may
        // not be projected yet: NOT_FOUND is asked again for a short, bounded while.
        const first = await retryNotFound(get, PROJECTION_GRACE_MS);
        const stream = deps.streams.start(res, { owner: caller.subject });
        let last = '';
        const emit = (order: ReturnType<typeof orderView>) => {
          const key = `${order.version}:${order.status}`;
          if (key !== last) stream.send('order', order);
          last = key;
        };
        emit(orderView(first.order));
        await pollInto(
          stream,
          deps.sseIntervalMs,
          async () => {
            const { order } = await get();
            emit(orderView(order));
          },
          deps.logProblem,
        );
      },
    }),
    route({
      method: 'GET',
      path: '/api/events/notifications',
      tag: 'events',
      summary: "Event stream: `notifications` (the caller's newest 20) whenever the inbox changes",
      auth: 'user',
      response: 'sse',
      async handle({ res, token }) {
        const caller = await verifyCaller(backends, token);
        const stream = deps.streams.start(res, { owner: caller.subject });
        let last = '';
        await pollInto(
          stream,
          deps.sseIntervalMs,
          async () => {
            const { notifications } = await backends.call(
              'notifications',
              backends.notifications.listNotifications,
              { userId: caller.subject, pageSize: 20, pageToken: '' },
              { token: caller.token, idempotent: true },
            );
            const views = notifications.map(notificationView);
            const key = views.map((n) => `${n.id}:${n.status}`).join(',');
            if (key !== last) stream.send('notifications', { notifications: views });
            last = key;
          },
          deps.logProblem,
        );
      },
    }),
  ];
}

const PROJECTION_GRACE_MS = 3000;

async function retryNotFound<T>(call: () => Promise<T>, graceMs: number): Promise<T> {
  const until = Date.now() + graceMs;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if ((error as { code?: number }).code !== status.NOT_FOUND || Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
