import { type handleUnaryCall, Metadata, type ServerUnaryCall, status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { dependencyAway } from '../dependency-errors.ts';
import { AppError, ResourceExhausted } from '../errors.ts';

const statusOf: Record<AppError['code'], status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  ABORTED: status.ABORTED,
  UNAVAILABLE: status.UNAVAILABLE,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
};

export interface ServiceErrorLike {
  code: status;
  details: string;
  metadata: Metadata;
}

/**
 * Adapts an async handler to grpc-js and translates errors at the edge:
 * AppError → its status with its message (and the field in `invalid-field`
 * metadata); a dependency away (Postgres unreachable or gone mid-call) →
 * UNAVAILABLE, which callers retry; anything else → INTERNAL with a generic
 * message, logged with its stack, so internals never leak to callers.
 */
export function unary<Req, Res>(
  method: string,
  logger: Logger,
  handler: (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    handler(call.request, call).then(
      (response) => callback(null, response),
      (error: unknown) => callback(toServiceError(method, logger, error) as never),
    );
  };
}

export function toServiceError(method: string, logger: Logger, error: unknown): ServiceErrorLike {
  const metadata = new Metadata();
  if (error instanceof AppError) {
    if ('field' in error && typeof error.field === 'string') metadata.set('invalid-field', error.field);
    if (error instanceof ResourceExhausted)
      metadata.set('retry-after-seconds', String(error.retryAfterSeconds));
    logger.debug({ method, code: error.code, msg: error.message }, 'request rejected');
    return { code: statusOf[error.code], details: boundedDetails(error.message), metadata };
  }
  if (dependencyAway(error)) {
    logger.warn({ err: error, method }, 'request failed: a dependency is unavailable');
    return { code: status.UNAVAILABLE, details: 'a dependency is unavailable; try again', metadata };
  }
  logger.error({ err: error, method }, 'request failed');
  return { code: status.INTERNAL, details: 'internal error', metadata };
}

/**
 * The status message as sent, at most `maxBytes` on the wire: grpc-js percent-encodes every byte
 * outside printable ASCII (an "é" costs 6), and a status that does not fit in its header frame never
 * reaches the caller, who then waits for the deadline (and so does every call sharing the
 * connection). Messages are written to be short; this is the net under the ones that quote input.
 */
export function boundedDetails(message: string, maxBytes = 400): string {
  let cost = 0;
  let end = 0;
  for (const char of message) {
    const code = char.codePointAt(0)!;
    const printable = code >= 0x20 && code <= 0x7e && char !== '%';
    const next = printable ? 1 : 3 * Buffer.byteLength(char);
    if (cost + next > maxBytes - 9) return `${message.slice(0, end)}…`;
    cost += next;
    end += char.length;
  }
  return message;
}
