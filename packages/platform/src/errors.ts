/**
 * Errors the application layer raises. Ports translate them to protocol
 * status codes (gRPC status, HTTP status); the domain never sees either.
 */
export class AppError extends Error {
  readonly code: AppErrorCode;
  constructor(code: AppErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = code;
  }
}

export type AppErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'ABORTED'
  | 'UNAVAILABLE'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_EXHAUSTED';

/** A bad field in a request; the message names it, e.g. `email: must be an email address`. */
export class InvalidArgument extends AppError {
  readonly field: string;
  constructor(field: string, problem: string) {
    super('INVALID_ARGUMENT', `${field}: ${problem}`);
    this.field = field;
  }
}

/**
 * A caller's value for an error message: quoted, and cut to its first `max` characters with its
 * length when longer, so an error never carries a hostile input back whole.
 */
export function quote(value: string, max = 40): string {
  const chars = [...value];
  if (chars.length <= max) return JSON.stringify(value);
  return `${JSON.stringify(chars.slice(0, max).join(''))}… (${chars.length} characters)`;
}

/** Refused for now (a throttle, a quota); the caller may try again after `retryAfterSeconds`. */
export class ResourceExhausted extends AppError {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number) {
    super('RESOURCE_EXHAUSTED', message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);
export const alreadyExists = (what: string) => new AppError('ALREADY_EXISTS', `${what} already exists`);
export const failedPrecondition = (why: string) => new AppError('FAILED_PRECONDITION', why);
export const aborted = (why: string) => new AppError('ABORTED', why);
