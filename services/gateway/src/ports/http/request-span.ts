import type { IncomingMessage, ServerResponse } from 'node:http';
import { contextFromTraceparent, SpanKind, SpanStatusCode, tracer } from '@conveyor/platform';

/** What request handling tells its span once routing has decided. */
export interface RequestSpan {
  /** The matched route template (`/api/orders/{id}`): names the span and sets `http.route`. */
  matched(route: string): void;
}

/** HTTP semconv: any other method is recorded as `_OTHER` (its name is unbounded input). */
const KNOWN_METHODS = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'TRACE',
]);

/**
 * Runs `handle` inside the SERVER span of one HTTP request (HTTP semantic
 * conventions), continuing an incoming W3C `traceparent`/`tracestate`, so the
 * gRPC client spans it causes, and all the backends do for it, are one trace.
 * The span is named `GET` until a route matches, then `GET /api/orders/{id}`:
 * never the raw path, whose ids would make every name unique. It ends when
 * the response closes, after its last byte or when the client goes away,
 * which is how an event stream ends (its handler may still be winding down).
 */
export function inRequestSpan<T>(
  req: IncomingMessage,
  res: ServerResponse,
  handle: (span: RequestSpan) => Promise<T>,
): Promise<T> {
  const known = KNOWN_METHODS.has(req.method ?? '');
  const method = known ? (req.method as string) : '_OTHER';
  const prefix = known ? method : 'HTTP';
  const parent = contextFromTraceparent(header(req, 'traceparent'), header(req, 'tracestate'));
  const attributes = {
    'http.request.method': method,
    'url.path': (req.url ?? '/').split(/[?#]/)[0] || '/',
    ...(known ? {} : { 'http.request.method_original': req.method ?? '' }),
  };
  const options = { kind: SpanKind.SERVER, attributes };
  return tracer().startActiveSpan(prefix, options, parent, (span) => {
    res.once('close', () => {
      // Nothing was sent when the client left first: no status to report.
      if (res.headersSent) {
        span.setAttribute('http.response.status_code', res.statusCode);
        if (res.statusCode >= 500) {
          span.setAttribute('error.type', String(res.statusCode));
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
      }
      span.end();
    });
    return handle({
      matched(route) {
        span.updateName(`${prefix} ${route}`);
        span.setAttribute('http.route', route);
      },
    });
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}
