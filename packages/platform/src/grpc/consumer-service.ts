import { consumersV1 } from '@conveyor/contracts';
import type { Logger } from 'pino';
import { authorized } from '../auth/authorize.ts';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import { AppError } from '../errors.ts';
import type {
  ParkedMessage,
  ReleaseResult,
  SequencedDeadLetters,
} from '../messaging/sequenced-dead-letters.ts';
import { pageSize } from '../validation.ts';
import type { GrpcService } from './server.ts';
import { unary } from './unary.ts';

/** Messages of a sequence GetDeadLetterSequence returns at most. */
const shownPerSequence = 100;

/**
 * `conveyor.consumers.v1.ConsumerService` over a service's sequenced dead letters (ADR 0031),
 * admins only. Ids are unique within the service's database; a service with several consumers
 * finds an id in whichever holds it.
 */
export function consumerGrpcService(
  consumers: readonly SequencedDeadLetters[],
  logger: Logger,
  verifier: TokenVerifier,
): GrpcService {
  const admin = <Req, Res>(handler: (request: Req) => Promise<Res>) =>
    authorized(verifier, ['admin'], (request: Req) => handler(request));
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
  };
  return {
    name: 'conveyor.consumers.v1.ConsumerService',
    definition: consumersV1.ConsumerServiceService,
    implementation,
  };
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
    id: m.id,
    consumer: m.consumer,
    sequenceKey: m.sequenceKey,
    state: m.state,
    stream: m.stream,
    streamSequence: m.streamSequence,
    subject: m.subject,
    eventId: m.eventId ?? '',
    eventType: m.eventType ?? '',
    reason: m.reason,
    deliveries: m.deliveries,
    parkedAt: m.parkedAt,
    headers: whole ? Object.fromEntries(m.headers) : {},
    payload: whole ? Buffer.from(m.payload) : Buffer.alloc(0),
  };
}
