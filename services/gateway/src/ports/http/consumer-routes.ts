import type { consumersV1 } from '@conveyor/contracts';
import type { ConsumerBackend } from '../../adapters/grpc-backends.ts';
import * as S from './api-schemas.ts';
import type { GatewayDeps } from './deps.ts';
import { type ApiRoute, route } from './route.ts';
import { consumerView, timerView } from './views.ts';

const consumerBackends: readonly ConsumerBackend[] = ['orders', 'notifications'];
const path = '/api/ops/consumers/{service}/{stream}/{durable}';

/**
 * Consumer controls (ADR 0033) of orders and notifications: lag, pause, resume and reset; and
 * their durable timers due soonest (ADR 0032). The services check that the caller is an admin;
 * the console asks before a reset.
 */
export function consumerRoutes(deps: GatewayDeps): ApiRoute[] {
  const { backends } = deps;
  return [
    route({
      method: 'GET',
      path: '/api/ops/consumers',
      tag: 'operations',
      summary: 'Every durable consumer: running or paused, its lag, position and replicas',
      auth: 'admin',
      response: S.ConsumerList,
      async handle({ token }) {
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
    }),
    route({
      method: 'GET',
      path: '/api/ops/timers',
      tag: 'operations',
      summary: 'Durable timers due soonest (for example unpaid orders’ payment timeouts), across services',
      auth: 'admin',
      query: S.TimerQuery,
      response: S.TimerList,
      async handle({ query, token }) {
        const limit = query.limit ?? 20;
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
    }),
    route({
      method: 'POST',
      path: `${path}/pause`,
      tag: 'operations',
      summary: 'Pause a consumer: every replica stops pulling within a second; events wait in the stream',
      auth: 'admin',
      params: S.ConsumerPath,
      body: S.PauseConsumerRequest,
      response: S.Consumer,
      async handle({ params: { service, stream, durable }, body, token }) {
        const { consumer } = await backends.callConsumers(
          service,
          (c) => c.pauseConsumer,
          { stream, durable, reason: body.reason },
          { token, idempotent: true },
        );
        return consumerView(service, present(consumer));
      },
    }),
    route({
      method: 'POST',
      path: `${path}/resume`,
      tag: 'operations',
      summary: 'Resume a paused consumer from where it stopped (or from its reset)',
      auth: 'admin',
      params: S.ConsumerPath,
      body: S.Empty,
      response: S.Consumer,
      async handle({ params: { service, stream, durable }, token }) {
        const { consumer } = await backends.callConsumers(
          service,
          (c) => c.resumeConsumer,
          { stream, durable },
          { token, idempotent: true },
        );
        return consumerView(service, present(consumer));
      },
    }),
    route({
      method: 'POST',
      path: `${path}/reset`,
      tag: 'operations',
      summary:
        'Deliver a paused consumer’s stream again from a sequence or a time (confirm must be true); it stays paused until resumed. 409 while running, under infrastructure-managed topology, or older than the inbox retention',
      auth: 'admin',
      params: S.ConsumerPath,
      body: S.ResetConsumerRequest,
      response: S.Consumer,
      async handle({ params: { service, stream, durable }, body, token }) {
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
    }),
  ];
}

function present(consumer: consumersV1.Consumer | undefined): consumersV1.Consumer {
  if (!consumer) throw new Error('ConsumerService answered without the consumer');
  return consumer;
}
