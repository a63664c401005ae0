import { createServer, type Server } from 'node:http';
import { extname } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from 'pino';
import { z } from 'zod';
import { consumerRoutes } from './consumer-routes.ts';
import { deadLetterSequenceRoutes } from './dead-letter-sequence-routes.ts';
import type { GatewayDeps } from './deps.ts';
import { eventRoutes } from './event-routes.ts';
import { opsRoutes } from './ops-routes.ts';
import { orderRoutes } from './order-routes.ts';
import { type ProblemBody, problem, toProblem } from './problem.ts';
import { inRequestSpan } from './request-span.ts';
import { type ApiRoute, type EdgeRequest, type GatewayEnv, registerRoutes, route } from './route.ts';
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
const consoleFiles = new Set(['.html', '.js', '.css', '.svg', '.json', '.ico']);
const problemType = {
  'content-type': 'application/problem+json; charset=utf-8',
  'cache-control': 'no-store',
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

/** The API and the console as a hono app; errors are RFC 9457 problem details. */
export function gatewayApp(
  deps: GatewayDeps,
  options: Pick<HttpOptions, 'bodyLimitBytes' | 'webRoot' | 'logger'>,
) {
  const app = new OpenAPIHono<GatewayEnv>({ defaultHook: refuseInvalid });
  app.use('/api/*', async (c, next) => {
    c.header('cache-control', 'no-store');
    await next();
  });
  let document: object | undefined;
  registerRoutes(
    app,
    apiRoutes(deps, () => (document ??= openApiDocument(app))),
    options.bodyLimitBytes,
  );
  const webConsole = serveStatic<GatewayEnv>({
    root: options.webRoot,
    rewriteRequestPath: (path) => (consoleFiles.has(extname(path)) ? path : '/index.html'),
    onFound: (_path, c) => c.header('cache-control', 'no-cache'),
  });
  app.use('*', async (c, next) => {
    if (c.req.path.startsWith('/api/')) return next();
    c.env.edge.label = 'static';
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') throw problem.methodNotAllowed(['GET']);
    return webConsole(c, next);
  });
  app.notFound((c) => {
    const { path } = c.req;
    throw path.startsWith('/api/')
      ? problem.notFound(`no route ${c.req.method} ${path}; see /api/openapi.json`)
      : problem.notFound(`no file at ${path}`);
  });
  app.onError(answerProblem(options.logger));
  return app;
}

/** A failed validation (zod-openapi's hook) as a 400 naming the field; `body` for the body as a whole. */
function refuseInvalid(result: { success: boolean; target: string; error?: z.ZodError }): void {
  if (result.success) return;
  const issue = result.error?.issues[0];
  const whole = result.target === 'json' ? 'body' : result.target;
  throw problem.badRequest(issue?.path.length ? issue.path.join('.') : whole, issue?.message ?? 'is invalid');
}

/** Whatever a route threw, as problem details; a 500 is logged and its cause kept from the client. */
function answerProblem(logger: Logger): ErrorHandler<GatewayEnv> {
  return (error, c) => {
    // hono's only 400 of its own here: a body the JSON validator could not parse.
    const malformed = error instanceof HTTPException && error.status === 400;
    const { body, internal } = toProblem(malformed ? problem.badRequest('body', 'is not valid JSON') : error);
    if (internal) logger.error({ err: error, path: c.req.path }, 'request failed');
    // An event stream that failed after its first bytes can only end.
    if (c.env.outgoing.headersSent) {
      c.env.outgoing.end();
      return RESPONSE_ALREADY_SENT;
    }
    if (body.status === 401) c.header('www-authenticate', 'Bearer');
    return c.json(body, body.status as 400, problemType);
  };
}

function openApiDocument(app: OpenAPIHono<GatewayEnv>): object {
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
    app.openAPIRegistry.registerComponent('securitySchemes', name, scheme);
  }
  return app.getOpenAPI31Document({
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
 * the request span, security headers and CORS are decided here, before hono sees the request.
 */
export function createGatewayServer(deps: GatewayDeps, options: HttpOptions): Server {
  const app = gatewayApp(deps, options);
  const edges = new WeakMap<object, EdgeRequest>();
  const listener = getRequestListener(
    (request, env) => app.fetch(request, { ...env, edge: edges.get(env.incoming) }),
    {
      errorHandler: () => problemResponse(problem.badRequest('url', 'is not a valid request target')),
    },
  );
  const trusted = trustedProxies(options.trustedProxies ?? []);
  const maxInFlight = options.maxInFlight ?? Number.POSITIVE_INFINITY;
  let inFlight = 0;
  return createServer((req, res) => {
    const started = performance.now();
    const observe = (route: string) =>
      options.onRequest?.(route, res.statusCode, (performance.now() - started) / 1000);
    if (inFlight >= maxInFlight) {
      res.setHeader('retry-after', '1');
      const body = toProblem(
        problem.unavailable(`too many requests in flight (${maxInFlight}); retry shortly`),
      ).body;
      res.writeHead(503, problemType).end(JSON.stringify(body));
      observe('refused');
      return;
    }
    inFlight++;
    res.once('close', () => inFlight--);
    // HTTP/1.0 may omit Host; hono's adapter needs one to build the request's URL.
    req.headers.host ??= 'gateway';
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
      edges.set(req, edge);
      await listener(req, res);
      return edge.label;
    }).then(observe);
  });
}

function problemResponse(error: unknown): Response {
  const body: ProblemBody = toProblem(error).body;
  return new Response(JSON.stringify(body), { status: body.status, headers: problemType });
}
