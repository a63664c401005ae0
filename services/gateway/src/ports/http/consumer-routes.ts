import type { consumersV1 } from '@conveyor/contracts';
import type { z } from 'zod';
import type { ConsumerBackend, Unary } from '../../adapters/grpc-backends.ts';
import * as S from './api-schemas.ts';
import type { GatewayDeps } from './deps.ts';
import { type ApiRoute, route } from './route.ts';
import { consumerView, timerView } from './views.ts';

const path = '/api/ops/consumers/{service}/{stream}/{durable}';
type Rpc<Req, Res> = (client: consumersV1.ConsumerServiceClient) => Unary<Req, Res>;
type Durable = { stream: string; durable: string };

/**
 * Consumer controls (ADR 0033) of orders and notifications: lag, pause, resume and reset; and
 * their durable timers due soonest (ADR 0032). The services check that the caller is an admin;
 * the console asks before a reset.
 */
/**
 * A ConsumerService call of `service` as the caller. Reads, and controls that leave the same state
 * however often they are sent (pause, resume), are retried after a transient failure.
 */
export const askConsumers =
  (backends: GatewayDeps['backends']) =>
  <Req, Res>(service: ConsumerBackend, rpc: Rpc<Req, Res>, request: Req, token: string, retry = true) =>
    backends.callConsumers(service, rpc, request, { token, idempotent: retry });

export function consumerRoutes(deps: GatewayDeps): ApiRoute[] {
  const ask = askConsumers(deps.backends);
  /** A control of one durable consumer, answered with the consumer as it is after it. */
  const control = <B extends z.ZodType<object>>(
    action: 'pause' | 'resume' | 'reset',
    summary: string,
    body: B,
    send: (service: ConsumerBackend, at: Durable, body: z.output<B>, token: string) => Promise<Controlled>,
  ) =>
    route({
      method: 'POST',
      path: `${path}/${action}`,
      tag: 'operations',
      summary,
      auth: 'admin',
      params: S.ConsumerPath,
      body,
      response: S.Consumer,
      async handle({ params: { service, stream, durable }, body, token }) {
        const { consumer } = await send(service, { stream, durable }, body, token);
        if (!consumer) throw new Error('ConsumerService answered without the consumer');
        return consumerView(service, consumer);
      },
    });
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
          S.ConsumerBackend.options.map(async (service) => {
            const { consumers } = await ask(service, (c) => c.listConsumers, {}, token);
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
          S.ConsumerBackend.options.map(async (service) => {
            const { timers, total } = await ask(service, (c) => c.listTimers, { pageSize: limit }, token);
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
    control(
      'pause',
      'Pause a consumer: every replica stops pulling within a second; events wait in the stream',
      S.PauseConsumerRequest,
      (service, at, { reason }, token) => ask(service, (c) => c.pauseConsumer, { ...at, reason }, token),
    ),
    control(
      'resume',
      'Resume a paused consumer from where it stopped (or from its reset)',
      S.Empty,
      (service, at, _body, token) => ask(service, (c) => c.resumeConsumer, at, token),
    ),
    control(
      'reset',
      'Deliver a paused consumer’s stream again from a sequence or a time (confirm must be true); it stays paused until resumed. 409 while running, under infrastructure-managed topology, or older than the inbox retention',
      S.ResetConsumerRequest,
      (service, at, { startSequence = 0, startTime, confirm }, token) => {
        const request = {
          ...at,
          startSequence,
          startTime: startTime ? new Date(startTime) : undefined,
          confirm,
        };
        // Sent once: a reset moves the consumer; a retry after a lost answer is the admin's call.
        return ask(service, (c) => c.resetConsumer, request, token, false);
      },
    ),
  ];
}

type Controlled = { consumer?: consumersV1.Consumer | undefined };
