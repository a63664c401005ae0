import { z } from 'zod';
import * as S from './api-schemas.ts';
import { reads, requireAdmin } from './caller.ts';
import type { GatewayDeps } from './deps.ts';
import { type ApiRoute, route } from './route.ts';
import { pollInto } from './sse.ts';
import { deadLetterView } from './views.ts';

/**
 * Admin operations: health and metrics of every service, dead-letter triage, projection rebuild.
 * Dead-letter calls are admin-checked by the notifications service; the gateway checks the caller
 * itself only where nothing downstream does (snapshot) or before a stream starts (rebuild, live ops).
 */
export function opsRoutes(deps: GatewayDeps): ApiRoute[] {
  const { backends } = deps;
  const read = reads(backends, 'notifications');
  return [
    route({
      method: 'GET',
      path: '/api/ops/snapshot',
      tag: 'operations',
      summary: "Every service's readiness and a summary of its metrics",
      auth: 'admin',
      response: S.OpsSnapshot,
      async handle({ token }) {
        await requireAdmin(backends, token);
        return deps.snapshot();
      },
    }),
    route({
      method: 'GET',
      path: '/api/ops/dead-letters',
      tag: 'operations',
      summary: 'Dead letters of the notification consumer, oldest first',
      auth: 'admin',
      query: S.DeadLetterQuery,
      response: S.page('deadLetters', S.DeadLetter),
      async handle({ query, token }) {
        const { subject = '', pageToken = '' } = query;
        const request = { filter: { subject, reasonContains: '' }, pageSize: 100, pageToken };
        const response = await read(backends.notifications.listDeadLetters, request, token);
        return {
          deadLetters: response.deadLetters.map((d) => deadLetterView(d)),
          nextPageToken: response.nextPageToken,
        };
      },
    }),
    route({
      method: 'GET',
      path: '/api/ops/dead-letters/{id}',
      tag: 'operations',
      summary: 'One dead letter with its headers and payload',
      auth: 'admin',
      params: S.DeadLetterPath,
      response: z.object({ deadLetter: S.DeadLetter }),
      async handle({ params, token }) {
        const { deadLetter } = await read(backends.notifications.getDeadLetter, { id: params.id }, token);
        if (!deadLetter) throw new Error('GetDeadLetter answered without a dead letter');
        return { deadLetter: deadLetterView(deadLetter, true) };
      },
    }),
    route({
      method: 'POST',
      path: '/api/ops/dead-letters/{id}/redrive',
      tag: 'operations',
      summary: 'Republish a dead letter to its original subject and remove it',
      auth: 'admin',
      params: S.DeadLetterPath,
      body: S.Empty,
      response: z.object({ redriven: z.array(z.string()) }),
      async handle({ params, token }) {
        const { redriven } = await backends.call(
          'notifications',
          backends.notifications.redriveDeadLetters,
          { selection: { id: params.id, filter: undefined, all: false }, limit: 1 },
          { token, idempotent: true },
        );
        return { redriven };
      },
    }),
    route({
      method: 'POST',
      path: '/api/ops/projections/rebuild',
      tag: 'operations',
      summary:
        'Rebuild the order read models; the response is an event stream of `progress` events, then `done`',
      auth: 'admin',
      body: S.Empty,
      response: 'sse',
      async handle({ res, token }) {
        const admin = await requireAdmin(backends, token);
        const stream = deps.streams.start(res, { owner: admin.subject });
        const call = backends.rebuildProjections(token, deps.rebuildDeadlineMs);
        stream.done.then(() => call.cancel());
        await new Promise<void>((resolve) => {
          call.on('data', (p: { phase: string; processed: number; total: number }) =>
            stream.send('progress', { phase: p.phase, processed: p.processed, total: p.total }),
          );
          call.on('error', (error) => {
            stream.send('problem', deps.logProblem(error));
            resolve();
          });
          call.on('end', () => {
            stream.send('done', {});
            resolve();
          });
        });
        stream.close();
      },
    }),
    route({
      method: 'GET',
      path: '/api/events/ops',
      tag: 'events',
      summary: 'Event stream: a `snapshot` (health + metrics) every ~2 s',
      auth: 'admin',
      response: 'sse',
      async handle({ res, token }) {
        const admin = await requireAdmin(backends, token);
        const stream = deps.streams.start(res, { owner: admin.subject });
        await pollInto(
          stream,
          deps.opsIntervalMs,
          async () => stream.send('snapshot', await deps.snapshot()),
          deps.logProblem,
        );
      },
    }),
  ];
}
