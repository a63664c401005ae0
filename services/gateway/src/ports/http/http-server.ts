import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import type { Logger } from 'pino';
import { z } from 'zod';
import { consumerRoutes } from './consumer-routes.ts';
import { deadLetterSequenceRoutes } from './dead-letter-sequence-routes.ts';
import type { GatewayDeps } from './deps.ts';
import { eventRoutes } from './event-routes.ts';
import { opsRoutes } from './ops-routes.ts';
import { orderRoutes } from './order-routes.ts';
import { problem, toProblem } from './problem.ts';
import { inRequestSpan } from './request-span.ts';
import { type ApiRoute, document, type EdgeRequest, route, routerOf } from './route.ts';
import { applyCors, clientAddress, isSecure, setSecurityHeaders, trustedProxies } from './security.ts';
import { sessionRoutes } from './session-routes.ts';

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

/** The console's file types; any other path is the single-page app's index.html. */
const consoleFiles: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};

/** Every API route, in one table: the router, the validators and the OpenAPI document all read it. */
export function apiRoutes(deps: GatewayDeps, document: () => object = () => ({})): ApiRoute[] {
  return [
    ...sessionRoutes(deps),
    ...orderRoutes(deps),
    ...opsRoutes(deps),
    ...deadLetterSequenceRoutes(deps),
    ...consumerRoutes(deps),
    ...eventRoutes(deps),
    route({
      method: 'GET',
      path: '/api/openapi.json',
      tag: 'meta',
      summary: 'This OpenAPI 3.1 document',
      auth: 'none',
      response: z.looseObject({ openapi: z.literal('3.1.0'), paths: z.record(z.string(), z.unknown()) }),
      handle: async () => document(),
    }),
  ];
}

/** The API and the console, answering each request (errors as RFC 9457 problem details). */
export function gatewayApp(
  deps: GatewayDeps,
  options: Pick<HttpOptions, 'bodyLimitBytes' | 'webRoot' | 'logger'>,
) {
  let openApi: object | undefined;
  const routes = apiRoutes(deps, () => (openApi ??= openApiDocument(routes)));
  const api = routerOf(routes, options.bodyLimitBytes);
  return async (req: IncomingMessage, res: ServerResponse, edge: EdgeRequest): Promise<void> => {
    try {
      const target = targetOf(req.url ?? '/');
      const path = target.split('?')[0] as string;
      if (path.startsWith('/api/')) {
        res.setHeader('cache-control', 'no-store');
        if (!(await api(req, res, edge, target))) {
          throw problem.notFound(`no route ${req.method} ${path}; see /api/openapi.json`);
        }
        return;
      }
      edge.label = 'static';
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET');
        throw problem.methodNotAllowed(['GET']);
      }
      await serveConsole(options.webRoot, path, res);
    } catch (error) {
      answerProblem(error, res, options.logger);
    }
  };
}

/** The path and query of a request target, origin-form or absolute-form; 400 for anything else. */
function targetOf(url: string): string {
  const target = url.replace(/^https?:\/\/[^/?#]*/i, '');
  if (!target.startsWith('/') || (target.split('?')[0] as string).includes('\\')) {
    throw problem.badRequest('url', 'is not a valid request target');
  }
  return target;
}

/** A console file (no-cache: a new deployment shows at once), else index.html by its type; 404 otherwise. */
async function serveConsole(root: string, path: string, res: ServerResponse): Promise<void> {
  const type = consoleFiles[extname(path)];
  const file = type ? path : '/index.html';
  // The console has no names with escapes, and no path leaves its root.
  const missing = () => problem.notFound(`no file at ${path}`);
  if (file.includes('%') || file.split('/').includes('..')) throw missing();
  const content = await readFile(join(root, file)).catch(() => {
    throw missing();
  });
  res.writeHead(200, {
    'content-type': type ?? (consoleFiles['.html'] as string),
    'content-length': content.length,
    'cache-control': 'no-cache',
  });
  res.end(content);
}

/** Whatever a request threw, as problem details; a 500 is logged and its cause kept from the client. */
function answerProblem(error: unknown, res: ServerResponse, logger?: Logger): void {
  const { body, internal } = toProblem(error);
  if (internal) logger?.error({ err: error, path: res.req.url }, 'request failed');
  // An event stream that failed after its first bytes can only end.
  if (res.headersSent) {
    res.end();
    return;
  }
  if (body.status === 401) res.setHeader('www-authenticate', 'Bearer');
  res.writeHead(body.status, {
    'content-type': 'application/problem+json; charset=utf-8',
    'cache-control': 'no-store',
  });
  res.end(JSON.stringify(body));
}

function openApiDocument(routes: readonly ApiRoute[]): object {
  const registry = new OpenAPIRegistry();
  for (const r of routes) document(registry, r);
  const securitySchemes = {
    session: {
      type: 'apiKey',
      in: 'cookie',
      name: 'conveyor_session',
      description: 'Set by /api/login; named `__Host-conveyor_session` over https',
    },
    bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
  } as const;
  for (const [name, scheme] of Object.entries(securitySchemes)) {
    registry.registerComponent('securitySchemes', name, scheme);
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Conveyor gateway',
      version: '1.0.0',
      description:
        'The public HTTP edge of Conveyor. Errors are RFC 9457 problem details. State-changing requests must send ' +
        'content-type: application/json (CSRF defence). Authenticate with the session cookie set by /api/login or ' +
        'with Authorization: Bearer <token>.',
    },
    servers: [{ url: '/' }],
    security: [{ session: [] }, { bearer: [] }],
  });
}

/**
 * The gateway's node:http server (not listening: the caller listens, tests on port 0). Admission,
 * the request span, security headers and CORS are decided here, before the request is routed.
 */
export function createGatewayServer(deps: GatewayDeps, options: HttpOptions): Server {
  const app = gatewayApp(deps, options);
  const trusted = trustedProxies(options.trustedProxies ?? []);
  const maxInFlight = options.maxInFlight ?? Number.POSITIVE_INFINITY;
  let inFlight = 0;
  return createServer((req, res) => {
    const started = performance.now();
    const observe = (route: string) =>
      options.onRequest?.(route, res.statusCode, (performance.now() - started) / 1000);
    if (inFlight >= maxInFlight) {
      res.setHeader('retry-after', '1');
      answerProblem(problem.unavailable(`too many requests in flight (${maxInFlight}); retry shortly`), res);
      observe('refused');
      return;
    }
    inFlight++;
    res.once('close', () => inFlight--);
    void inRequestSpan(req, res, async (span) => {
      const secure = isSecure(req, options.secureCookies, trusted);
      setSecurityHeaders(res, secure);
      const edge: EdgeRequest = {
        span,
        label: 'unmatched',
        secure,
        clientAddress: clientAddress(req, trusted),
      };
      if (applyCors(req, res, options.corsOrigins)) return edge.label;
      await app(req, res, edge);
      return edge.label;
    }).then(observe);
  });
}
