import { status } from '@grpc/grpc-js';
import { TaskCancelledError } from 'cockatiel';
import { AppError } from '../errors.ts';

/**
 * Failures that say the downstream is unreachable or too slow, the only ones
 * that count against a breaker and the only ones worth retrying. Any other
 * answer (NOT_FOUND, UNAUTHENTICATED, ...) is a healthy downstream replying.
 */
export function isTransientFailure(error: unknown): boolean {
  if (error instanceof TaskCancelledError) return true;
  if (error instanceof AppError) return error.code === 'UNAVAILABLE';
  const code = (error as { code?: unknown } | null)?.code;
  return code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED;
}
