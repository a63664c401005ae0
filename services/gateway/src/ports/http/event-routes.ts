import { status } from '@grpc/grpc-js';
import { ConstantBackoff, handleWhen, retry } from 'cockatiel';
import * as S from './api-schemas.ts';
import { reads, verifyCaller } from './caller.ts';
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
        const get = () => reads(backends, 'orders')(backends.orders.getOrder, { orderId }, token);
        // Fail before the stream starts (401/403/404 as plain problems).
        const first = await untilProjected.execute(get);
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
        const inbox = reads(backends, 'notifications');
        const newest = { userId: caller.subject, pageSize: 20, pageToken: '' };
        let last = '';
        await pollInto(
          stream,
          deps.sseIntervalMs,
          async () => {
            const { notifications } = await inbox(backends.notifications.listNotifications, newest, token);
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

/**
 * A just-placed order may not be projected yet: NOT_FOUND is asked again every 100 ms for about
 * 3 s (30 times) before it stands.
 */
const untilProjected = retry(
  handleWhen((error) => (error as { code?: number }).code === status.NOT_FOUND),
  { maxAttempts: 30, backoff: new ConstantBackoff(100) },
);
