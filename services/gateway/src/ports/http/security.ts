import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';

/**
 * Headers on every response. The console loads only its own scripts and
 * styles (no inline code), so the CSP needs no 'unsafe-inline'.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function isSecure(req: IncomingMessage, mode: 'auto' | 'always' | 'never'): boolean {
  if (mode !== 'auto') return mode === 'always';
  return (req.socket as TLSSocket).encrypted === true || req.headers['x-forwarded-proto'] === 'https';
}

export function setSecurityHeaders(res: ServerResponse, secure: boolean): void {
  res.setHeader('content-security-policy', CSP);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
  res.setHeader('cross-origin-resource-policy', 'same-origin');
  res.setHeader('permissions-policy', 'camera=(), microphone=(), geolocation=()');
  if (secure) res.setHeader('strict-transport-security', 'max-age=31536000; includeSubDomains');
}

/**
 * CORS is closed unless an origin is listed in GATEWAY_CORS_ORIGINS: no
 * Access-Control-Allow-* headers are sent for other origins, so browsers
 * refuse cross-origin reads, and preflights for JSON mutations fail.
 * Returns true when the request was a preflight and has been answered.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  const open = origin !== undefined && allowed.includes(origin);
  if (open) {
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-allow-credentials', 'true');
    res.setHeader('vary', 'Origin');
  }
  if (req.method !== 'OPTIONS') return false;
  if (open) {
    res.setHeader('access-control-allow-methods', 'GET, POST');
    res.setHeader('access-control-allow-headers', 'content-type, authorization, idempotency-key');
    res.setHeader('access-control-max-age', '600');
  }
  res.writeHead(open ? 204 : 403).end();
  return true;
}

/**
 * CSRF defence for cookie sessions, besides SameSite=Strict: a state change
 * must carry `content-type: application/json`, which an HTML form cannot
 * send cross-site and which a cross-origin script can only send after a
 * preflight that closed CORS refuses.
 */
export function isJsonRequest(req: IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() === 'application/json';
}

export function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean, name: string): string {
  const parts = [`${name}=${encodeURIComponent(token)}`, 'Path=/', 'HttpOnly', 'SameSite=Strict'];
  parts.push(`Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`);
  if (secure) parts.push('Secure');
  return parts.join('; ');
}
