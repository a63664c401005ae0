import { z } from 'zod';
import * as S from './api-schemas.ts';
import { requireAdmin } from './caller.ts';
import type { GatewayDeps } from './deps.ts';
import type { Route } from './route.ts';
import { pollInto } from './sse.ts';
import { deadLetterView } from './views.ts';

/**
 * Admin operations: health and metrics of every service, dead-letter triage, projection rebuild.
 * Dead-letter calls are admin-checked by the notifications service; the gateway checks the caller
 * itself only where nothing downstream does (snapshot) or before a stream starts (rebuild, live ops).
 */
export function opsRoutes(deps: GatewayDeps): Route[] {
  const { backends } = deps;
  return [
    {
      method: 'GET',
      path: '/api/ops/snapshot',
      tag: 'operations',
      summary: "Every service's readiness and a summary of its metrics",
      auth: 'admin',
      response: S.OpsSnapshot,
      async handle(ctx) {
        await requireAdmin(backends, ctx.requireToken());
        return deps.snapshot();
      },
    },
    {
      method: 'GET',
      path: '/api/ops/dead-letters',
      tag: 'operations',
      summary: 'Dead letters of the notification consumer, oldest first',
      auth: 'admin',
      query: { subject: 'original subject, exactly', pageToken: 'from nextPageToken' },
      response: S.page('deadLetters', S.DeadLetter),
      async handle(ctx) {
        const token = ctx.requireToken();
        const response = await backends.call(
          'notifications',
          backends.notifications.listDeadLetters,
          {
            filter: { subject: ctx.query.get('subject') ?? '', reasonContains: '' },
            pageSize: 100,
            pageToken: ctx.query.get('pageToken') ?? '',
          },
          { token, idempotent: true },
        );
        return {
          deadLetters: response.deadLetters.map((d) => deadLetterView(d)),
          nextPageToken: response.nextPageToken,
        };
      },
    },
    {
      method: 'GET',
      path: '/api/ops/dead-letters/{id}',
      tag: 'operations',
      summary: 'One dead letter with its headers and payload',
      auth: 'admin',
      response: z.object({ deadLetter: S.DeadLetter }),
      async handle(ctx) {
        const token = ctx.requireToken();
        const { deadLetter } = await backends.call(
          'notifications',
          backends.notifications.getDeadLetter,
          { id: ctx.params.id ?? '' },
          { token, idempotent: true },
        );
        if (!deadLetter) throw new Error('GetDeadLetter answered without a dead letter');
        return { deadLetter: deadLetterView(deadLetter, true) };
      },
    },
    {
      method: 'POST',
      path: '/api/ops/dead-letters/{id}/redrive',
      tag: 'operations',
      summary: 'Republish a dead letter to its original subject and remove it',
      auth: 'admin',
      request: S.Empty,
      response: z.object({ redriven: z.array(z.string()) }),
      async handle(ctx) {
        const token = ctx.requireToken();
        await ctx.body(S.Empty);
        const { redriven } = await backends.call(
          'notifications',
          backends.notifications.redriveDeadLetters,
          { selection: { id: ctx.params.id ?? '', filter: undefined, all: false }, limit: 1 },
          { token, idempotent: true },
        );
        return { redriven };
      },
    },
    {
      method: 'POST',
      path: '/api/ops/projections/rebuild',
      tag: 'operations',
      summary:
        'Rebuild the order read models; the response is an event stream of `progress` events, then `done`',
      auth: 'admin',
      request: S.Empty,
      response: 'sse',
      async handle(ctx) {
        const token = ctx.requireToken();
        const admin = await requireAdmin(backends, token);
        await ctx.body(S.Empty);
        const stream = deps.streams.start(ctx.res, { owner: admin.subject });
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
        return undefined;
      },
    },
    {
      method: 'GET',
      path: '/api/events/ops',
      tag: 'events',
      summary: 'Event stream: a `snapshot` (health + metrics) every ~2 s',
      auth: 'admin',
      response: 'sse',
      async handle(ctx) {
        const admin = await requireAdmin(backends, ctx.requireToken());
        const stream = deps.streams.start(ctx.res, { owner: admin.subject });
        await pollInto(
          stream,
          deps.opsIntervalMs,
          async () => stream.send('snapshot', await deps.snapshot()),
          deps.logProblem,
        );
        return undefined;
      },
    },
  ];
}
