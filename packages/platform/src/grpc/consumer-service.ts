import { consumersV1 } from '@conveyor/contracts';
import type { Logger } from 'pino';
import { authorized } from '../auth/authorize.ts';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import { AppError, quote } from '../errors.ts';
import type { ConsumerControls, ConsumerStatus } from '../messaging/consumer-controls.ts';
import type {
  ParkedMessage,
  ReleaseResult,
  SequencedDeadLetters,
} from '../messaging/sequenced-dead-letters.ts';
import type { Queryable } from '../postgres/pool.ts';
import { countTimers, listTimers } from '../timers/durable-timers.ts';
import { pageSize } from '../validation.ts';
import type { GrpcService } from './server.ts';
import { unary } from './unary.ts';

/** Messages of a sequence GetDeadLetterSequence returns at most. */
const shownPerSequence = 100;

/** A pause's reason at most, in characters. */
const maxReason = 200;

/**
 * `conveyor.consumers.v1.ConsumerService` over a service's sequenced dead letters (ADR 0031), its
 * consumer controls (ADR 0033) and its durable timers (ADR 0032; `timers`: the database holding
 * them, none when the service has no timers), admins only. Ids are unique within the service's
 * database; a service with several consumers finds an id in whichever holds it.
 */
export function consumerGrpcService(
  consumers: readonly SequencedDeadLetters[],
  controls: ConsumerControls,
  logger: Logger,
  verifier: TokenVerifier,
  timers?: Queryable,
): GrpcService {
  const admin = <Req, Res>(handler: (request: Req, by: string) => Promise<Res>) =>
    authorized(verifier, ['admin'], (request: Req, principal) => handler(request, principal.subject));
  const owner = async (id: string) => {
    for (const c of consumers) if (await c.holds(id)) return c;
    throw new AppError('NOT_FOUND', `dead letter ${id.slice(0, 24)} not found`);
  };
  const implementation: consumersV1.ConsumerServiceServer = {
    listDeadLetterSequences: unary(
      'ListDeadLetterSequences',
      logger,
      admin(async (request: consumersV1.ListDeadLetterSequencesRequest) => {
        const chosen = request.consumer
          ? consumers.filter((c) => c.consumer === request.consumer)
          : consumers;
        if (request.consumer && chosen.length === 0) {
          throw new AppError(
            'INVALID_ARGUMENT',
            `consumer: one of ${consumers.map((c) => c.consumer).join(', ')} (or empty for all)`,
          );
        }
        const limit = pageSize('page_size', request.pageSize, 500, 50);
        const after = parseToken(request.pageToken);
        // The consumers share one id space: page through them by id.
        const pages = await Promise.all(chosen.map((c) => c.list(after, limit)));
        const sequences = pages
          .flatMap((p) => p.items)
          .sort((a, b) => Number(a.head.id) - Number(b.head.id))
          .slice(0, limit);
        const more = pages.some((p) => p.next !== undefined) || pages.flatMap((p) => p.items).length > limit;
        return {
          sequences: sequences.map((s) => ({ head: toProto(s.head, false), parkedBehind: s.parkedBehind })),
          nextPageToken: more ? (sequences.at(-1)?.head.id ?? '') : '',
        };
      }),
    ),
    getDeadLetterSequence: unary(
      'GetDeadLetterSequence',
      logger,
      admin(async (request: consumersV1.GetDeadLetterSequenceRequest) => {
        const found = await (await owner(request.id)).show(request.id, shownPerSequence);
        if (!found) throw new AppError('NOT_FOUND', `dead letter ${request.id.slice(0, 24)} not found`);
        return { messages: found.sequence.map((m) => toProto(m, true)), total: found.total };
      }),
    ),
    redriveDeadLetterSequence: unary(
      'RedriveDeadLetterSequence',
      logger,
      admin(async (request: consumersV1.RedriveDeadLetterSequenceRequest) => {
        const result = await (await owner(request.id)).redrive(request.id);
        logger.info({ id: request.id, ...result }, 'dead letter sequence redriven');
        return resultToProto(result);
      }),
    ),
    discardDeadLetter: unary(
      'DiscardDeadLetter',
      logger,
      admin(async (request: consumersV1.DiscardDeadLetterRequest) => {
        if (!request.confirm) {
          throw new AppError(
            'FAILED_PRECONDITION',
            'confirm: a discarded dead letter is never applied; set confirm to drop it',
          );
        }
        const result = await (await owner(request.id)).discard(request.id);
        logger.warn({ id: request.id, ...result }, 'dead letter discarded');
        return resultToProto(result);
      }),
    ),
    listConsumers: unary(
      'ListConsumers',
      logger,
      admin(async () => ({ consumers: (await controls.list()).map(consumerToProto) })),
    ),
    pauseConsumer: unary(
      'PauseConsumer',
      logger,
      admin(async (request: consumersV1.PauseConsumerRequest, by) => {
        const reason = request.reason.trim();
        if ([...reason].length > maxReason)
          throw new AppError(
            'INVALID_ARGUMENT',
            `reason: at most ${maxReason} characters, not ${quote(reason)}`,
          );
        return { consumer: consumerToProto(await controls.pause(...named(request), by, reason)) };
      }),
    ),
    resumeConsumer: unary(
      'ResumeConsumer',
      logger,
      admin(async (request: consumersV1.ResumeConsumerRequest, by) => ({
        consumer: consumerToProto(await controls.resume(...named(request), by)),
      })),
    ),
    resetConsumer: unary(
      'ResetConsumer',
      logger,
      admin(async (request: consumersV1.ResetConsumerRequest, by) => {
        const [stream, durable] = named(request);
        const bySequence = request.startSequence !== 0;
        if (bySequence === (request.startTime !== undefined)) {
          throw new AppError('INVALID_ARGUMENT', 'start_sequence or start_time: exactly one of them');
        }
        if (!request.confirm) {
          throw new AppError(
            'FAILED_PRECONDITION',
            "confirm: a reset replaces the consumer's position and cannot be undone; set confirm to reset it",
          );
        }
        const to = bySequence ? { sequence: request.startSequence } : { time: request.startTime as Date };
        return { consumer: consumerToProto(await controls.reset(stream, durable, to, by)) };
      }),
    ),
    listTimers: unary(
      'ListTimers',
      logger,
      admin(async (request: consumersV1.ListTimersRequest) => {
        const limit = pageSize('page_size', request.pageSize, 500, 20);
        if (!timers) return { timers: [], total: 0 };
        const [soonest, total] = await Promise.all([listTimers(timers, { limit }), countTimers(timers)]);
        const now = Date.now();
        return {
          timers: soonest.map((t) => ({
            ...t,
            lastError: t.lastError ?? '',
            firing: t.claimedUntil !== undefined && t.claimedUntil.getTime() > now,
          })),
          total,
        };
      }),
    ),
  };
  return {
    name: 'conveyor.consumers.v1.ConsumerService',
    definition: consumersV1.ConsumerServiceService,
    implementation,
  };
}

/** A request's consumer, checked for shape; ConsumerControls answers NOT_FOUND for one it lacks. */
function named(request: { stream: string; durable: string }): [string, string] {
  for (const field of ['stream', 'durable'] as const) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(request[field]))
      throw new AppError('INVALID_ARGUMENT', `${field}: a name such as ORDERS, not ${quote(request[field])}`);
  }
  return [request.stream, request.durable];
}

function consumerToProto(c: ConsumerStatus): consumersV1.Consumer {
  return { ...c, lag: c.pending + c.ackPending };
}

function parseToken(token: string): string | undefined {
  if (token === '') return undefined;
  if (!/^[0-9]{1,18}$/.test(token))
    throw new AppError('INVALID_ARGUMENT', 'page_token: not a token from a list');
  return token;
}

function resultToProto(result: ReleaseResult) {
  return {
    applied: result.applied,
    deadAgainId: result.deadAgain?.id ?? '',
    deadAgainReason: result.deadAgain?.reason ?? '',
    continuing: result.remaining > 0,
  };
}

function toProto(m: ParkedMessage, whole: boolean): consumersV1.SequencedMessage {
  return {
    ...m,
    eventId: m.eventId ?? '',
    eventType: m.eventType ?? '',
    headers: whole ? Object.fromEntries(m.headers) : {},
    payload: whole ? Buffer.from(m.payload) : Buffer.alloc(0),
  };
}
