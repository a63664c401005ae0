import { z } from 'zod';
import type { ConsumerBackend } from '../../adapters/grpc-backends.ts';
import * as S from './api-schemas.ts';
import { askConsumers } from './consumer-routes.ts';
import type { GatewayDeps } from './deps.ts';
import { type ApiRoute, route } from './route.ts';
import { sequencedMessageView, sequenceReleaseView } from './views.ts';

/** Heads asked of each service per page. */
const perService = 50;
/** Where each service's next page starts: `orders:<id>`, `notifications:<id>`, or both joined by a comma. */
const pageTokenPattern =
  /^((orders|notifications):[1-9][0-9]{0,17}(,(orders|notifications):[1-9][0-9]{0,17})?)?$/;
const SequencesQuery = z.object({
  service: S.ConsumerBackend.optional().meta({ description: 'orders or notifications; both when absent' }),
  pageToken: z
    .string()
    .max(80, 'is not a nextPageToken of this list')
    .regex(pageTokenPattern, 'is not a nextPageToken of this list')
    .optional()
    .transform((raw) =>
      raw ? new Map(raw.split(',').map((part) => part.split(':') as [ConsumerBackend, string])) : undefined,
    )
    .meta({ description: 'from nextPageToken' }),
});

/**
 * Sequenced dead letters (ADR 0031) of orders' projections and of notifications, in one list.
 * Each service keeps its own and numbers them in its own id space, so every route names the
 * service beside the id. The services check that the caller is an admin.
 */
export function deadLetterSequenceRoutes(deps: GatewayDeps): ApiRoute[] {
  const ask = askConsumers(deps.backends);
  return [
    route({
      method: 'GET',
      path: '/api/ops/dead-letter-sequences',
      tag: 'operations',
      summary: 'Blocked sequences of every consumer: each head with how many events are parked behind it',
      auth: 'admin',
      query: SequencesQuery,
      response: S.page('sequences', S.DeadLetterSequence),
      async handle({ query, token }) {
        const chosen = query.service === undefined ? S.ConsumerBackend.options : [query.service];
        const after = query.pageToken;
        const pages = await Promise.all(
          chosen
            .filter((service) => !after || after.has(service))
            .map(async (service) => {
              const request = { consumer: '', pageSize: perService, pageToken: after?.get(service) ?? '' };
              const page = await ask(service, (c) => c.listDeadLetterSequences, request, token);
              return { service, page };
            }),
        );
        const sequences = pages
          .flatMap(({ service, page }) =>
            page.sequences.map((s) => ({
              service,
              head: sequencedMessageView(s.head ?? missingHead()),
              parkedBehind: s.parkedBehind,
            })),
          )
          .sort(oldestFirst);
        const nextPageToken = pages
          .filter(({ page }) => page.nextPageToken !== '')
          .map(({ service, page }) => `${service}:${page.nextPageToken}`)
          .join(',');
        return { sequences, nextPageToken };
      },
    }),
    route({
      method: 'GET',
      path: '/api/ops/dead-letter-sequences/{service}/{id}',
      tag: 'operations',
      summary: 'A sequence by the id of any of its messages: the head, then the parked events in order',
      auth: 'admin',
      params: S.SequencePath,
      response: S.DeadLetterSequenceDetail,
      async handle({ params: { service, id }, token }) {
        const { messages, total } = await ask(service, (c) => c.getDeadLetterSequence, { id }, token);
        return { service, messages: messages.map((m) => sequencedMessageView(m, true)), total };
      },
    }),
    route({
      method: 'POST',
      path: '/api/ops/dead-letter-sequences/{service}/{id}/redrive',
      tag: 'operations',
      summary: 'Apply a head, then the events parked behind it in order; a failing one becomes the new head',
      auth: 'admin',
      params: S.SequencePath,
      body: S.Empty,
      response: S.SequenceRelease,
      async handle({ params: { service, id }, token }) {
        // Sent once: a retry after a lost answer would find the head gone (404) and hide the result.
        const result = await ask(service, (c) => c.redriveDeadLetterSequence, { id }, token, false);
        return sequenceReleaseView(service, id, result);
      },
    }),
    route({
      method: 'POST',
      path: '/api/ops/dead-letter-sequences/{service}/{id}/discard',
      tag: 'operations',
      summary:
        'Drop a head without applying it (confirm must be true; it cannot be undone), then apply the events parked behind it',
      auth: 'admin',
      params: S.SequencePath,
      body: S.DiscardDeadLetterRequest,
      response: S.SequenceRelease,
      async handle({ params: { service, id }, body: { confirm }, token }) {
        // The service refuses confirm: false (409): the decision stays with the one that drops it.
        const result = await ask(service, (c) => c.discardDeadLetter, { id, confirm }, token, false);
        return sequenceReleaseView(service, id, result);
      },
    }),
  ];
}

type Sequence = z.infer<typeof S.DeadLetterSequence>;

/** Oldest head first across both services; a head without a time last. */
function oldestFirst(a: Sequence, b: Sequence): number {
  const at = (s: Sequence) => s.head.parkedAt ?? '~';
  if (at(a) !== at(b)) return at(a) < at(b) ? -1 : 1;
  if (a.service !== b.service) return a.service < b.service ? -1 : 1;
  return Number(a.head.id) - Number(b.head.id);
}

function missingHead(): never {
  throw new Error('ListDeadLetterSequences answered a sequence without a head');
}
