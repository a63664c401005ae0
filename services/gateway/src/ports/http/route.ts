import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie } from 'hono/cookie';
import { z } from 'zod';
import { Problem } from './api-schemas.ts';
import { problem } from './problem.ts';
import type { RequestSpan } from './request-span.ts';
import { isJsonRequest, sessionCookieName } from './security.ts';

/** What the node:http edge decided about a request before hono routes it. */
export interface EdgeRequest {
  span: RequestSpan;
  /** The metrics label: the route template once matched, `static`, or `unmatched`. */
  label: string;
  /** The request came over https (directly or as told by a trusted proxy). */
  secure: boolean;
  /** The client's address (through trusted proxies; IPv6 per /64), for edge limits. */
  clientAddress: string;
}
export type GatewayEnv = { Bindings: HttpBindings & { edge: EdgeRequest } };

type Obj = z.ZodType<object>;
/** What a route handler sees: validated input, the caller's token and hono's context. */
export interface RouteInput<P, Q, H, B> {
  c: Context<GatewayEnv>;
  params: P;
  query: Q;
  headers: H;
  body: B;
  /** From `Authorization: Bearer` or the session cookie; never empty on `user` and `admin` routes. */
  token: string;
  edge: EdgeRequest;
}

/**
 * One API route: matched, validated (400 naming the field) and documented from the same
 * declaration, so the route table is the OpenAPI document. Paths use OpenAPI templating.
 */
export interface ApiRoute<
  P extends Obj = Obj,
  Q extends Obj = Obj,
  H extends Obj = Obj,
  B extends Obj = Obj,
> {
  method: 'GET' | 'POST';
  path: string;
  summary: string;
  tag: 'session' | 'catalog' | 'orders' | 'notifications' | 'operations' | 'events' | 'meta';
  /** `user`: needs a token (the services check ownership); `admin`: also documented as admin-only. */
  auth: 'none' | 'user' | 'admin';
  params?: P;
  query?: Q;
  headers?: H;
  body?: B;
  /** The success body's schema, or `sse` for an event stream the handler writes itself. */
  response: z.ZodType | 'sse';
  status?: number;
  /** Another success status the route may answer with, and when (e.g. 200 for a replayed command). */
  alternate?: { status: number; description: string };
  /** The success body (sent with `status`), or a Response of its own (another status). */
  handle(input: RouteInput<z.output<P>, z.output<Q>, z.output<H>, z.output<B>>): Promise<unknown>;
}

/** Declares a route with its handler's input typed by its schemas. */
export const route = <P extends Obj = Obj, Q extends Obj = Obj, H extends Obj = Obj, B extends Obj = Obj>(
  r: ApiRoute<P, Q, H, B>,
): ApiRoute => r as unknown as ApiRoute;

/** The bearer token, else the session cookie of this request's kind (https reads only `__Host-`). */
export function tokenOf(c: Context<GatewayEnv>): string {
  const header = c.req.header('authorization');
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  return getCookie(c, sessionCookieName(c.env.edge.secure)) ?? '';
}

type Middleware = (c: Context<GatewayEnv>, next: () => Promise<void>) => Promise<void>;

/** Names the span and the metric after the route, before anything can refuse the request. */
const matched =
  (path: string): Middleware =>
  async (c, next) => {
    c.env.edge.label = path;
    c.env.edge.span.matched(path);
    await next();
  };

/** CSRF defence: a state change must say it is JSON (see isJsonRequest). */
const jsonOnly: Middleware = async (c, next) => {
  if (!isJsonRequest(c.req.header('content-type'))) throw problem.unsupportedMediaType();
  await next();
};

/** An empty body is an empty object: commands without fields need not send one. */
const blankIsEmpty: Middleware = async (c, next) => {
  // hono keeps the text it read as a promise in bodyCache; the validator parses it from there.
  const cache = c.req.bodyCache as { text?: Promise<string> };
  if ((await c.req.text()).trim() === '') cache.text = Promise.resolve('{}');
  await next();
};

/** Registers `routes` on `app`, and a 405 naming the allowed methods for any other method on their paths. */
export function registerRoutes(
  app: OpenAPIHono<GatewayEnv>,
  routes: readonly ApiRoute[],
  bodyLimitBytes: number,
): void {
  const tooLarge = () => {
    throw problem.tooLarge(bodyLimitBytes);
  };
  const body = [jsonOnly, bodyLimit({ maxSize: bodyLimitBytes, onError: tooLarge }), blankIsEmpty];
  const allowed = new Map<string, string[]>();
  for (const r of routes) {
    allowed.set(r.path, [...(allowed.get(r.path) ?? []), r.method]);
    // zod-openapi runs these before its validators, and the validators before the handler.
    const middleware = [matched(r.path), ...(r.method === 'POST' ? body : [])];
    app.openapi(createRoute({ ...documented(r), middleware }) as never, handlerOf(r) as never);
  }
  for (const [path, methods] of allowed) {
    app.all(path.replace(/\{(\w+)\}/g, ':$1'), (c) => {
      c.header('allow', methods.join(', '));
      throw problem.methodNotAllowed(methods);
    });
  }
}

/** The route as zod-openapi declares it: its validators and its part of the OpenAPI document. */
function documented(r: ApiRoute) {
  const success = {
    description: r.response === 'sse' ? 'text/event-stream' : 'OK',
    content:
      r.response === 'sse'
        ? { 'text/event-stream': { schema: z.string() } }
        : { 'application/json': { schema: r.response } },
  };
  const camel = r.path.replace(/[{}]/g, '').replace(/[/-](\w)/g, (_, ch: string) => ch.toUpperCase());
  return {
    method: r.method === 'GET' ? ('get' as const) : ('post' as const),
    path: r.path,
    summary: r.summary,
    tags: [r.tag],
    operationId: `${r.method.toLowerCase()}${camel}`,
    ...(r.auth === 'none' ? { security: [] } : {}),
    request: {
      // Each only when declared: zod-openapi adds a validator per key present.
      ...(r.params ? { params: r.params } : {}),
      ...(r.query ? { query: r.query } : {}),
      ...(r.headers ? { headers: r.headers } : {}),
      ...(r.body ? { body: { required: true, content: { 'application/json': { schema: r.body } } } } : {}),
    } as never,
    responses: {
      [r.status ?? 200]: success,
      ...(r.alternate ? { [r.alternate.status]: { ...success, description: r.alternate.description } } : {}),
      400: problemResponse('Invalid input; `field` names the offending field'),
      ...(r.auth === 'none' ? {} : { 401: problemResponse('No valid session cookie or bearer token') }),
      ...(r.auth === 'admin' ? { 403: problemResponse('Admins only') } : {}),
      503: problemResponse('A service did not answer'),
    },
  };
}

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: Problem } },
});

/** Checks the token, calls the handler with the validated input and answers its result as JSON. */
function handlerOf(r: ApiRoute) {
  return async (c: Context<GatewayEnv>) => {
    // hono answers HEAD with the GET route; a stream would hold its slot without sending a byte.
    if (r.response === 'sse' && c.req.method === 'HEAD') {
      c.header('allow', r.method);
      throw problem.methodNotAllowed([r.method]);
    }
    const token = tokenOf(c);
    if (r.auth !== 'none' && !token) throw problem.unauthenticated();
    const valid = (target: string) => c.req.valid(target as never) ?? {};
    const result = await r.handle({
      c,
      params: valid('param'),
      query: valid('query'),
      headers: valid('header'),
      body: valid('json'),
      token,
      edge: c.env.edge,
    });
    // An event stream has been written to the node response already.
    if (r.response === 'sse') return RESPONSE_ALREADY_SENT;
    return result instanceof Response ? result : c.json(result as object, (r.status ?? 200) as 200);
  };
}
