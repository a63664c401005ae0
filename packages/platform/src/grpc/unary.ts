import { type handleUnaryCall, Metadata, type ServerUnaryCall, status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
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
 * metadata); anything else → INTERNAL with a generic message, logged with
 * its stack, so internals never leak to callers.
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
    return { code: statusOf[error.code], details: error.message, metadata };
  }
  logger.error({ err: error, method }, 'request failed');
  return { code: status.INTERNAL, details: 'internal error', metadata };
}
