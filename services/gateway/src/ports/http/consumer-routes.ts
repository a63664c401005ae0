import type { consumersV1 } from '@conveyor/contracts';
import type { ConsumerBackend } from '../../adapters/grpc-backends.ts';
import * as S from './api-schemas.ts';
import type { GatewayDeps } from './deps.ts';
import { parseWith, type RequestContext } from './request-context.ts';
import type { Route } from './route.ts';
import { consumerView, timerView } from './views.ts';

const consumerBackends: readonly ConsumerBackend[] = ['orders', 'notifications'];
const path = '/api/ops/consumers/{service}/{stream}/{durable}';

/**
 * Consumer controls (ADR 0033) of orders and notifications: lag, pause, resume and reset; and
 * their durable timers due soonest (ADR 0032). The services check that the caller is an admin;
 * the console asks before a reset.
 */
export function consumerRoutes(deps: GatewayDeps): Route[] {
  const { backends } = deps;
  return [
    {
      method: 'GET',
      path: '/api/ops/consumers',
      tag: 'operations',
      summary: 'Every durable consumer: running or paused, its lag, position and replicas',
      auth: 'admin',
      response: S.ConsumerList,
      async handle(ctx) {
        const token = ctx.requireToken();
        const lists = await Promise.all(
          consumerBackends.map(async (service) => {
            const { consumers } = await backends.callConsumers(
              service,
              (c) => c.listConsumers,
              {},
              { token, idempotent: true },
            );
            return consumers.map((c) => consumerView(service, c));
          }),
        );
        return { consumers: lists.flat() };
      },
    },
    {
      method: 'GET',
      path: '/api/ops/timers',
      tag: 'operations',
      summary: 'Durable timers due soonest (for example unpaid orders’ payment timeouts), across services',
      auth: 'admin',
      query: { limit: '1 to 500 (default 20): how many of the soonest' },
      response: S.TimerList,
      async handle(ctx) {
        const token = ctx.requireToken();
        const raw = ctx.query.get('limit');
        const limit = raw === null ? 20 : parseWith(S.TimerLimit, raw, 'limit');
        const lists = await Promise.all(
          consumerBackends.map(async (service) => {
            const { timers, total } = await backends.callConsumers(
              service,
              (c) => c.listTimers,
              { pageSize: limit },
              { token, idempotent: true },
            );
            return { timers: timers.map((t) => timerView(service, t)), total };
          }),
        );
        const soonest = lists
          .flatMap((l) => l.timers)
          .sort((a, b) => (a.dueAt ?? '').localeCompare(b.dueAt ?? ''))
          .slice(0, limit);
        return { timers: soonest, total: lists.reduce((sum, l) => sum + l.total, 0) };
      },
    },
    {
      method: 'POST',
      path: `${path}/pause`,
      tag: 'operations',
      summary: 'Pause a consumer: every replica stops pulling within a second; events wait in the stream',
      auth: 'admin',
      request: S.PauseConsumerRequest,
      response: S.Consumer,
      async handle(ctx) {
        const token = ctx.requireToken();
        const { service, stream, durable } = target(ctx);
        const { reason } = await ctx.body(S.PauseConsumerRequest);
        const { consumer } = await backends.callConsumers(
          service,
          (c) => c.pauseConsumer,
          { stream, durable, reason },
          { token, idempotent: true },
        );
        return consumerView(service, present(consumer));
      },
    },
    {
      method: 'POST',
      path: `${path}/resume`,
      tag: 'operations',
      summary: 'Resume a paused consumer from where it stopped (or from its reset)',
      auth: 'admin',
      request: S.Empty,
      response: S.Consumer,
      async handle(ctx) {
        const token = ctx.requireToken();
        const { service, stream, durable } = target(ctx);
        await ctx.body(S.Empty);
        const { consumer } = await backends.callConsumers(
          service,
          (c) => c.resumeConsumer,
          { stream, durable },
          { token, idempotent: true },
        );
        return consumerView(service, present(consumer));
      },
    },
    {
      method: 'POST',
      path: `${path}/reset`,
      tag: 'operations',
      summary:
        'Deliver a paused consumer’s stream again from a sequence or a time (confirm must be true); it stays paused until resumed. 409 while running, under infrastructure-managed topology, or older than the inbox retention',
      auth: 'admin',
      request: S.ResetConsumerRequest,
      response: S.Consumer,
      async handle(ctx) {
        const token = ctx.requireToken();
        const { service, stream, durable } = target(ctx);
        const body = await ctx.body(S.ResetConsumerRequest);
        // Sent once: a reset moves the consumer; a retry after a lost answer is the admin's call.
        const { consumer } = await backends.callConsumers(
          service,
          (c) => c.resetConsumer,
          {
            stream,
            durable,
            startSequence: body.startSequence ?? 0,
            startTime: body.startTime === undefined ? undefined : new Date(body.startTime),
            confirm: body.confirm,
          },
          { token, idempotent: false },
        );
        return consumerView(service, present(consumer));
      },
    },
  ];
}

function present(consumer: consumersV1.Consumer | undefined): consumersV1.Consumer {
  if (!consumer) throw new Error('ConsumerService answered without the consumer');
  return consumer;
}

function target(ctx: RequestContext): { service: ConsumerBackend; stream: string; durable: string } {
  return {
    service: parseWith(S.ConsumerBackend, ctx.params.service, 'service'),
    stream: parseWith(S.ConsumerPart, ctx.params.stream, 'stream'),
    durable: parseWith(S.ConsumerPart, ctx.params.durable, 'durable'),
  };
}
