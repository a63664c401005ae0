import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { problem } from './problem.ts';
import { sessionCookieName } from './security.ts';

/** What a route handler sees of one request. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The request came over https (directly or as told by a proxy). */
  secure: boolean;
  /** The client's address (through trusted proxies; IPv6 per /64), for edge limits. */
  clientAddress: string;
  /** The access token from `Authorization: Bearer` or the session cookie. */
  token: string | undefined;
  /** The token, or 401. */
  requireToken(): string;
  /** Overrides the route's success status (e.g. 200 for a replayed command). */
  setStatus(status: number): void;
  /** The JSON body parsed with `schema`; 400 naming the first bad field. */
  body<T extends z.ZodType>(schema: T): Promise<z.infer<T>>;
}

/** The bearer token, else the session cookie of this request's kind (https reads only `__Host-`). */
export function tokenOf(req: IncomingMessage, secure: boolean): string | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim() || undefined;
  return cookies(req)[sessionCookieName(secure)];
}

export function cookies(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    try {
      out[part.slice(0, eq).trim()] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      // a malformed cookie of someone else's is not ours to fail on
    }
  }
  return out;
}

/** Reads at most `limit` bytes; 413 beyond, 400 for malformed JSON. */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw problem.tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw problem.tooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw problem.badRequest('body', 'is not valid JSON');
  }
}

/** Parses `value` with `schema`; 400 naming the bad field (`name` for a scalar value). */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, name = 'body'): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.length ? issue.path.join('.') : name;
  throw problem.badRequest(field, issue?.message ?? 'is invalid');
}
