import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import { consumerRoutes } from './consumer-routes.ts';
import { deadLetterSequenceRoutes } from './dead-letter-sequence-routes.ts';
import type { GatewayDeps } from './deps.ts';
import { eventRoutes } from './event-routes.ts';
import { openApiDocument } from './openapi.ts';
import { opsRoutes } from './ops-routes.ts';
import { orderRoutes } from './order-routes.ts';
import { HttpProblem, problem, toProblem } from './problem.ts';
import { parseWith, type RequestContext, readJson, tokenOf } from './request-context.ts';
import { inRequestSpan, type RequestSpan } from './request-span.ts';
import { compileRoutes, type Route } from './route.ts';
import {
  applyCors,
  clientAddress,
  isJsonRequest,
  isSecure,
  setSecurityHeaders,
  trustedProxies,
} from './security.ts';
import { sessionRoutes } from './session-routes.ts';
import { staticFiles } from './static-files.ts';

export interface HttpOptions {
  corsOrigins: readonly string[];
  bodyLimitBytes: number;
  secureCookies: 'auto' | 'always' | 'never';
  webRoot: string;
  logger: Logger;
  /** Peers (addresses, CIDR ranges) whose X-Forwarded-Proto is believed; none by default. */
  trustedProxies?: readonly string[];
  /** Requests handled at once; beyond it 503 with Retry-After at once (live streams count while open). */
  maxInFlight?: number;
  onRequest?: (route: string, status: number, seconds: number) => void;
}

/** Every API route, in one table: the router and the OpenAPI document both read it. */
export function apiRoutes(deps: GatewayDeps): Route[] {
  const routes = [
    ...sessionRoutes(deps),
    ...orderRoutes(deps),
    ...opsRoutes(deps),
    ...deadLetterSequenceRoutes(deps),
    ...consumerRoutes(deps),
    ...eventRoutes(deps),
  ];
  routes.push({
    method: 'GET',
    path: '/api/openapi.json',
    tag: 'meta',
    summary: 'This OpenAPI 3.1 document',
    auth: 'none',
    response: z.looseObject({ openapi: z.literal('3.1.0'), paths: z.record(z.string(), z.unknown()) }),
    handle: async () => document,
  });
  const document = openApiDocument(routes);
  return routes;
}

/** The gateway's node:http server (not listening: the caller listens, tests on port 0). */
export function createGatewayServer(deps: GatewayDeps, options: HttpOptions): Server {
  const routes = apiRoutes(deps);
  const router = compileRoutes(routes);
  const serveStatic = staticFiles(options.webRoot);
  const trusted = trustedProxies(options.trustedProxies ?? []);
  const maxInFlight = options.maxInFlight ?? Number.POSITIVE_INFINITY;
  let inFlight = 0;
  return createServer((req, res) => {
    const started = performance.now();
    if (inFlight >= maxInFlight) {
      res.setHeader('retry-after', '1');
      const body = problem.unavailable(`too many requests in flight (${maxInFlight}); retry shortly`);
      sendJson(res, 503, toProblem(body).body, 'application/problem+json');
      options.onRequest?.('refused', 503, (performance.now() - started) / 1000);
      return;
    }
    inFlight++;
    res.once('close', () => inFlight--);
    void inRequestSpan(req, res, (span) => handle(req, res, span)).then((route) =>
      options.onRequest?.(route, res.statusCode, (performance.now() - started) / 1000),
    );
  });

  /** Answers one request; never rejects. Resolves to the route label for metrics. */
  async function handle(req: IncomingMessage, res: ServerResponse, span: RequestSpan): Promise<string> {
    let label = 'unmatched';
    let pathname = req.url ?? '/';
    const secure = isSecure(req, options.secureCookies, trusted);
    setSecurityHeaders(res, secure);
    try {
      const url = new URL(req.url ?? '/', 'http://gateway');
      pathname = url.pathname;
      if (applyCors(req, res, options.corsOrigins)) return label;
      if (!url.pathname.startsWith('/api/')) {
        label = 'static';
        if (req.method !== 'GET' && req.method !== 'HEAD') throw problem.methodNotAllowed(['GET']);
        if (await serveStatic(url.pathname, res)) return label;
        throw problem.notFound(`no file at ${url.pathname}`);
      }
      const match = router.match(req.method ?? 'GET', url.pathname);
      if (!match) throw problem.notFound(`no route ${req.method} ${url.pathname}; see /api/openapi.json`);
      if ('allowed' in match) {
        res.setHeader('allow', match.allowed.join(', '));
        throw problem.methodNotAllowed(match.allowed);
      }
      label = match.route.path;
      span.matched(label);
      if (match.route.method === 'POST' && !isJsonRequest(req)) throw problem.unsupportedMediaType();
      const token = tokenOf(req, secure);
      let status = match.route.status ?? 200;
      const ctx: RequestContext = {
        setStatus(n) {
          status = n;
        },
        req,
        res,
        params: match.params,
        query: url.searchParams,
        secure,
        clientAddress: clientAddress(req, trusted),
        token,
        requireToken() {
          if (!token) throw problem.unauthenticated();
          return token;
        },
        body: async (schema) => parseWith(schema, await readJson(req, options.bodyLimitBytes)),
      };
      const result = await match.route.handle(ctx);
      if (result !== undefined && !res.headersSent) sendJson(res, status, result);
    } catch (error) {
      const { body, internal } = toProblem(error);
      if (internal) options.logger.error({ err: error, path: pathname }, 'request failed');
      if (res.headersSent) {
        res.end();
        return label;
      }
      if (error instanceof HttpProblem && error.status === 401) res.setHeader('www-authenticate', 'Bearer');
      sendJson(res, body.status, body, 'application/problem+json');
    }
    return label;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': `${type}; charset=utf-8`,
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
