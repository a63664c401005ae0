import type { IncomingMessage, ServerResponse } from 'node:http';
import { METHODS } from 'node:http';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import FindMyWay from 'find-my-way';
import { z } from 'zod';
import { Problem } from './api-schemas.ts';
import { problem } from './problem.ts';
import type { RequestSpan } from './request-span.ts';
import { isJsonRequest, sessionCookieName } from './security.ts';

/** What the node:http edge decided about a request before it is routed. */
export interface EdgeRequest {
  span: RequestSpan;
  /** The metrics label: the route template once matched, `static`, or `unmatched`. */
  label: string;
  /** The request came over https (directly or as told by a trusted proxy). */
  secure: boolean;
  /** The client's address (through trusted proxies; IPv6 per /64), for edge limits. */
  clientAddress: string;
}

type Obj = z.ZodType<object>;
/** What a route handler sees: validated input, the caller's token and the node response. */
export interface RouteInput<P, Q, H, B> {
  /** For headers of the answer, and event streams written to it. */
  res: ServerResponse;
  params: P;
  query: Q;
  headers: H;
  body: B;
  /** From `Authorization: Bearer` or the session cookie; never empty on `user` and `admin` routes. */
  token: string;
  edge: EdgeRequest;
  /** The request's cookie `name`, or '' when it has none. */
  cookie(name: string): string;
  /** Answers with `status` instead of the route's (the alternate, e.g. 200 for a replayed command). */
  status(status: number): void;
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
  /** The success body, sent as JSON with `status` (or the one the handler chose). */
  handle(input: RouteInput<z.output<P>, z.output<Q>, z.output<H>, z.output<B>>): Promise<unknown>;
}

/** Declares a route with its handler's input typed by its schemas. */
export const route = <P extends Obj = Obj, Q extends Obj = Obj, H extends Obj = Obj, B extends Obj = Obj>(
  r: ApiRoute<P, Q, H, B>,
): ApiRoute => r as unknown as ApiRoute;

/** The bearer token, else the session cookie of this request's kind (https reads only `__Host-`). */
export function tokenOf(req: IncomingMessage, secure: boolean): string {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  return cookieOf(req, sessionCookieName(secure));
}

/** The cookie `name` of a request, or ''; a malformed value of someone else's is not ours to fail on. */
function cookieOf(req: IncomingMessage, name: string): string {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return '';
    }
  }
  return '';
}

type Found = { route?: ApiRoute; allowed?: string[] };

/**
 * Routes `routes` with find-my-way. The answer resolves false when no route has the request's path;
 * any other method on a route's path is a 405 naming the allowed ones. HEAD is answered as GET
 * (node sends no body), except on event streams. Refusals are thrown as problems.
 */
export function routerOf(routes: readonly ApiRoute[], bodyLimitBytes: number) {
  // onBadUrl makes find answer a malformed escape without params instead of no route.
  const router = FindMyWay({ onBadUrl: () => {} });
  const allowed = new Map<string, string[]>();
  const noop = () => {};
  for (const r of routes) {
    allowed.set(r.path, [...(allowed.get(r.path) ?? []), r.method]);
    router.on(r.method, templateOf(r.path), noop, { route: r } satisfies Found);
  }
  for (const [path, methods] of allowed) {
    const others = METHODS.filter((m) => m !== 'HEAD' && !methods.includes(m)) as FindMyWay.HTTPMethod[];
    router.on(others, templateOf(path), noop, { allowed: methods } satisfies Found);
  }
  return async (req: IncomingMessage, res: ServerResponse, edge: EdgeRequest, url: string) => {
    const method = (req.method === 'HEAD' ? 'GET' : req.method) as FindMyWay.HTTPMethod;
    const found = router.find(method, url);
    if (!found) return false;
    if (!found.searchParams) {
      // find-my-way refuses a malformed escape without params; found again undecoded, name its parameter.
      const raw = router.find(method, url.replaceAll('%', '%25'));
      const field = Object.entries(raw?.params ?? {}).find(([, value]) => !decodes(value ?? ''))?.[0];
      if (field === undefined) return false;
      throw problem.badRequest(field, 'is not valid percent-encoding');
    }
    // An empty segment is no parameter (`/api/orders/` is no order's path).
    if (Object.values(found.params).includes('')) return false;
    const { route: r, allowed } = found.store as Found;
    // A HEAD on an event stream would hold a slot and poll the services without sending a byte.
    if (!r || (r.response === 'sse' && req.method === 'HEAD')) {
      const methods = allowed ?? [(r as ApiRoute).method];
      res.setHeader('allow', methods.join(', '));
      throw problem.methodNotAllowed(methods);
    }
    await answer(r, { req, res, edge, params: found.params, query: found.searchParams }, bodyLimitBytes);
    return true;
  };
}

const templateOf = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

function decodes(s: string): boolean {
  try {
    decodeURIComponent(s);
    return true;
  } catch {
    return false;
  }
}

type Matched = {
  req: IncomingMessage;
  res: ServerResponse;
  edge: EdgeRequest;
  params: object;
  query: object;
};

/**
 * One matched request, in order: the route names the span and the metric; 415 for a state change
 * that is not JSON, 413 beyond the body limit; the query, path, headers and body are validated
 * (400 naming the field); 401 without a token; then the handler, whose result is the JSON answer.
 */
async function answer(r: ApiRoute, { req, res, edge, params, query }: Matched, bodyLimitBytes: number) {
  edge.label = r.path;
  edge.span.matched(r.path);
  const body = r.method === 'POST' ? await readJson(req, bodyLimitBytes) : undefined;
  const headerNames = Object.keys((r.headers as z.ZodObject | undefined)?.shape ?? {});
  const headers = Object.fromEntries(headerNames.map((name) => [name, req.headers[name.toLowerCase()]]));
  const input = {
    query: validated(r.query, query, 'query'),
    params: validated(r.params, params, 'param'),
    headers: validated(r.headers, headers, 'header'),
    body: validated(r.body, body, 'body'),
  };
  const token = tokenOf(req, edge.secure);
  if (r.auth !== 'none' && !token) throw problem.unauthenticated();
  let status = r.status ?? 200;
  const result = await r.handle({
    res,
    ...input,
    token,
    edge,
    cookie: (name) => cookieOf(req, name),
    status: (chosen) => {
      status = chosen;
    },
  });
  // An event stream has been written to the response already.
  if (r.response === 'sse') return;
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(result));
}

/** `value` parsed with `schema` (when the route declares one); 400 naming the field, else `part`. */
function validated(schema: z.ZodType | undefined, value: unknown, part: string): object {
  if (!schema) return {};
  const result = schema.safeParse(value);
  if (result.success) return result.data as object;
  const issue = result.error.issues[0];
  throw problem.badRequest(issue?.path.length ? issue.path.join('.') : part, issue?.message ?? 'is invalid');
}

/** The JSON body: 415 unless it says it is JSON (CSRF defence), 413 beyond `limit` bytes, blank is {}. */
async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  if (!isJsonRequest(req.headers['content-type'])) throw problem.unsupportedMediaType();
  if (Number(req.headers['content-length'] ?? 0) > limit) throw problem.tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw problem.tooLarge(limit);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  // Commands without fields need not send a body.
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw problem.badRequest('body', 'is not valid JSON');
  }
}

/** The route's part of the OpenAPI document, with the standard problem responses. */
export function document(registry: OpenAPIRegistry, r: ApiRoute): void {
  const success = {
    description: r.response === 'sse' ? 'text/event-stream' : 'OK',
    content:
      r.response === 'sse'
        ? { 'text/event-stream': { schema: z.string() } }
        : { 'application/json': { schema: r.response } },
  };
  const camel = r.path.replace(/[{}]/g, '').replace(/[/-](\w)/g, (_, ch: string) => ch.toUpperCase());
  registry.registerPath({
    method: r.method === 'GET' ? 'get' : 'post',
    path: r.path,
    summary: r.summary,
    tags: [r.tag],
    operationId: `${r.method.toLowerCase()}${camel}`,
    ...(r.auth === 'none' ? { security: [] } : {}),
    request: {
      params: r.params,
      query: r.query,
      headers: r.headers,
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
  });
}

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: Problem } },
});
