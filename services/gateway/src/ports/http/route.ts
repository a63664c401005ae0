import type { z } from 'zod';
import { problem } from './problem.ts';
import type { RequestContext } from './request-context.ts';

/**
 * One API route: how it is matched, documented and handled. Paths use
 * OpenAPI templating (`/api/orders/{id}`), so the route table is also the
 * source of the OpenAPI document.
 */
export interface Route {
  method: 'GET' | 'POST';
  path: string;
  summary: string;
  tag: 'session' | 'catalog' | 'orders' | 'notifications' | 'operations' | 'events' | 'meta';
  /** `user`: needs a token (the services check ownership); `admin`: also documented as admin-only. */
  auth: 'none' | 'user' | 'admin';
  request?: z.ZodType;
  query?: Record<string, string>;
  /** The success body's schema, or `sse` for an event stream. */
  response: z.ZodType | 'sse';
  status?: number;
  /** Another success status the route may answer with, and when (e.g. 200 for a replayed command). */
  alternate?: { status: number; description: string };
  handle(ctx: RequestContext): Promise<unknown>;
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

export function compileRoutes(routes: readonly Route[]) {
  const compiled = routes.map((route) => ({
    route,
    names: [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string),
    pattern: new RegExp(`^${route.path.replace(/\{\w+\}/g, '([^/]+)')}$`),
  }));
  return {
    /** The route for a method and path, `405` with the allowed methods, or undefined; 400 for a malformed parameter. */
    match(method: string, path: string): RouteMatch | { allowed: string[] } | undefined {
      const allowed: string[] = [];
      for (const c of compiled) {
        const m = c.pattern.exec(path);
        if (!m) continue;
        if (c.route.method !== method) {
          allowed.push(c.route.method);
          continue;
        }
        const params: Record<string, string> = {};
        c.names.forEach((name, i) => {
          params[name] = decodeParam(name, m[i + 1] as string);
        });
        return { route: c.route, params };
      }
      return allowed.length ? { allowed } : undefined;
    },
  };
}

function decodeParam(name: string, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw problem.badRequest(name, 'is not valid percent-encoding');
  }
}
