import { Metadata, type ServiceDefinition, status } from '@grpc/grpc-js';
import { mapHandlers } from './map-handlers.ts';
import { boundedDetails } from './unary.ts';

/** The longest string any request field may hold (ids, emails, tokens, URLs are far shorter). */
export const maxRequestStringLength = 8192;

/**
 * Three kinds of request never reach a handler as data it could check:
 * - bytes the generated decoder refuses (an int64 beyond 2^53, say) would make
 *   grpc-js answer INTERNAL "Error deserializing request";
 * - strings holding NUL, which Postgres refuses in text, would fail deep in a
 *   query as INTERNAL.
 * - strings longer than `maxRequestStringLength`, which a validator quoting
 *   them could turn into a status too large to send.
 * All are the caller's mistake, so all become INVALID_ARGUMENT here, before
 * any handler runs (DESIGN invariant 5: bad input gets a clear error).
 */
const undecodable = Symbol('undecodable request');

interface Undecodable {
  [undecodable]: string;
}

// biome-ignore lint/suspicious/noExplicitAny: grpc-js service definitions are untyped at this level.
type AnyDefinition = ServiceDefinition<any>;
// biome-ignore lint/suspicious/noExplicitAny: grpc-js handlers are untyped at this level.
type Handler = (call: any, callback?: any) => void;

/** The definition with decoders that hand a marker to the handler instead of throwing. */
export function tolerantDefinition(definition: AnyDefinition): AnyDefinition {
  const tolerant: Record<string, AnyDefinition[string]> = {};
  for (const [name, method] of Object.entries(definition)) {
    tolerant[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return method.requestDeserialize(bytes);
        } catch (error) {
          return { [undecodable]: (error as Error).message } satisfies Undecodable;
        }
      },
    };
  }
  return tolerant;
}

/** Handlers that answer INVALID_ARGUMENT for undecodable requests, NUL characters and overlong strings. */
export function guardedImplementation(
  definition: AnyDefinition,
  implementation: Record<string, Handler>,
): Record<string, Handler> {
  return mapHandlers(definition, implementation, (_method, original) => (call, callback) => {
    const problem = requestProblem(call.request);
    if (!problem) return original(call, callback);
    const error = {
      code: status.INVALID_ARGUMENT,
      details: boundedDetails(problem),
      metadata: new Metadata(),
    };
    if (typeof callback === 'function') callback(error);
    else call.emit('error', error);
  });
}

/** Why a request cannot be handled, or undefined when it can. */
export function requestProblem(request: unknown): string | undefined {
  if (request !== null && typeof request === 'object' && undecodable in request) {
    return `request could not be decoded: ${(request as Undecodable)[undecodable]}`;
  }
  const found = badString(request, '', 0);
  if (!found) return undefined;
  const field = found.path || 'request';
  return found.length === undefined
    ? `${field}: must not contain NUL characters`
    : `${field}: at most ${maxRequestStringLength} characters (got ${found.length})`;
}

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The first string holding NUL (no length) or longer than the limit (its length). */
function badString(
  value: unknown,
  path: string,
  depth: number,
): { path: string; length?: number } | undefined {
  if (typeof value === 'string') {
    if (value.length > maxRequestStringLength) return { path, length: value.length };
    return value.includes('\u0000') ? { path } : undefined;
  }
  if (depth > 16 || value === null || typeof value !== 'object') return undefined;
  if (ArrayBuffer.isView(value)) return undefined; // bytes fields may hold anything
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = badString(item, `${path}[${index}]`, depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const found = badString(item, path ? `${path}.${snake(key)}` : snake(key), depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}
