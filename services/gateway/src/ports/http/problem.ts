import { AppError, InvalidArgument } from '@conveyor/platform/errors';
import { status } from '@grpc/grpc-js';
import type { z } from 'zod';
import type { Problem } from './api-schemas.ts';

/** An error the edge answers with as RFC 9457 problem details. */
export class HttpProblem extends Error {
  readonly status: number;
  readonly title: string;
  readonly field: string | undefined;
  constructor(httpStatus: number, detail: string, field?: string) {
    // A detail may quote what the client sent (a path, a value): at most 200 characters of it go back.
    super(detail.length > 200 ? `${detail.slice(0, 200)}…` : detail);
    this.status = httpStatus;
    this.title = titles[httpStatus] ?? 'Error';
    this.field = field;
  }
}

/** RFC 9457 problem details, as the API documents them. */
export type ProblemBody = z.infer<typeof Problem>;

/** The HTTP status of a gRPC status, by name; the application's error codes use the same names. */
const httpStatusOf: Partial<Record<string, number>> = {
  INVALID_ARGUMENT: 400,
  OUT_OF_RANGE: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  ABORTED: 409,
  FAILED_PRECONDITION: 409,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  UNIMPLEMENTED: 501,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

const titles: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthenticated',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  429: 'Too many requests',
  499: 'Cancelled',
  500: 'Internal error',
  501: 'Not implemented',
  503: 'Service unavailable',
  504: 'Gateway timeout',
};

/**
 * Translates anything thrown by a handler: HttpProblem as is; a gRPC error by
 * its code, keeping the service's message (and the `invalid-field` metadata
 * as `field`); anything else is a 500 with a generic detail (logged, never leaked).
 */
export function toProblem(error: unknown): { body: ProblemBody; internal: boolean } {
  if (error instanceof HttpProblem) {
    return { body: body(error.status, error.title, error.message, error.field), internal: false };
  }
  const e = error as { code?: unknown; details?: string; metadata?: { get(key: string): unknown[] } };
  const app = error instanceof AppError;
  const name = app ? error.code : typeof e?.code === 'number' ? status[e.code] : undefined;
  const httpStatus = name === undefined ? undefined : httpStatusOf[name];
  if (name === undefined || httpStatus === undefined) {
    return { body: body(500, 'Internal error', 'internal error'), internal: true };
  }
  const slug = name.toLowerCase().replaceAll('_', '-');
  const field = error instanceof InvalidArgument ? error.field : e.metadata?.get?.('invalid-field')?.[0];
  const detail = app ? error.message : (e.details ?? slug);
  const title = titles[httpStatus] ?? slug;
  return {
    body: body(httpStatus, title, detail, typeof field === 'string' ? field : undefined, slug),
    internal: false,
  };
}

function body(httpStatus: number, title: string, detail: string, field?: string, slug?: string): ProblemBody {
  return {
    type: `https://conveyor.dev/problems/${slug ?? title.toLowerCase().replaceAll(' ', '-')}`,
    title,
    status: httpStatus,
    detail,
    ...(field ? { field } : {}),
  };
}

export const problem = {
  badRequest: (field: string, problemText: string) => new HttpProblem(400, `${field}: ${problemText}`, field),
  unauthenticated: (detail = 'sign in first: no session cookie or bearer token') =>
    new HttpProblem(401, detail),
  forbidden: (detail: string) => new HttpProblem(403, detail),
  notFound: (detail: string) => new HttpProblem(404, detail),
  methodNotAllowed: (allowed: string[]) => new HttpProblem(405, `allowed: ${allowed.join(', ')}`),
  tooLarge: (limit: number) => new HttpProblem(413, `the body exceeds ${limit} bytes`),
  unsupportedMediaType: () =>
    new HttpProblem(415, 'requests that change state must send content-type: application/json'),
  tooManyRequests: (detail: string) => new HttpProblem(429, detail),
  unavailable: (detail: string) => new HttpProblem(503, detail),
};
