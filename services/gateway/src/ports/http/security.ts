import type { IncomingMessage, ServerResponse } from 'node:http';
import { BlockList, isIP } from 'node:net';
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

/**
 * The peers whose `X-Forwarded-Proto` is believed: addresses and CIDR ranges (`10.0.0.0/8`,
 * `::1`). Anyone else could claim https and get what only https should (HSTS, the `__Host-` cookie).
 */
export function trustedProxies(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (isIP(address) === 0) throw new Error(`not an IP address or CIDR range: ${entry}`);
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return list;
}

export function isSecure(
  req: IncomingMessage,
  mode: 'auto' | 'always' | 'never',
  trusted?: BlockList,
): boolean {
  if (mode !== 'auto') return mode === 'always';
  if ((req.socket as TLSSocket).encrypted === true) return true;
  if (req.headers['x-forwarded-proto'] !== 'https' || !trusted) return false;
  return isTrusted(unmap(req.socket.remoteAddress ?? ''), trusted);
}

function isTrusted(address: string, trusted: BlockList): boolean {
  const family = isIP(address);
  return family !== 0 && trusted.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** An IPv4 peer on a dual-stack socket reads ::ffff:a.b.c.d. */
const unmap = (address: string) => (address.startsWith('::ffff:') ? address.slice(7) : address);

/**
 * The session cookie's name: `__Host-` over https, so browsers take it only from a secure origin
 * of this exact host with Path=/ (no http page or sibling subdomain can plant one); plain over
 * http (development), where browsers refuse `__Host-` cookies.
 */
export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-conveyor_session' : 'conveyor_session';
}

/** The device cookie (30 days): this browser signed in to an account before (users' device token). */
export function deviceCookieName(secure: boolean): string {
  return secure ? '__Host-conveyor_device' : 'conveyor_device';
}

export const DEVICE_COOKIE_MAX_AGE_S = 30 * 24 * 3600;

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
export function isJsonRequest(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() === 'application/json';
}

export function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean, name: string): string {
  const parts = [`${name}=${encodeURIComponent(token)}`, 'Path=/', 'HttpOnly', 'SameSite=Strict'];
  parts.push(`Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`);
  if (secure) parts.push('Secure');
  return parts.join('; ');
}

/**
 * The client's address for edge limits: the peer, or, when the peer is a trusted proxy, the
 * nearest address in X-Forwarded-For that is not one (walking right to left: what a client writes
 * at the left cannot move it). IPv6 addresses count per /64, the block one subscriber gets.
 */
export function clientAddress(req: IncomingMessage, trusted: BlockList): string {
  let client = unmap(req.socket.remoteAddress ?? '');
  const forwarded = req.headers['x-forwarded-for'];
  if (isTrusted(client, trusted) && typeof forwarded === 'string') {
    const hops = forwarded
      .split(',')
      .map((hop) => unmap(hop.trim()))
      .filter((hop) => isIP(hop) !== 0);
    for (let i = hops.length - 1; i >= 0; i--) {
      client = hops[i] as string;
      if (!isTrusted(client, trusted)) break;
    }
  }
  return isIP(client) === 6 ? ipv6Prefix64(client) : client;
}

/** The first four groups of an IPv6 address, `2001:db8:1:2::/64`. */
function ipv6Prefix64(address: string): string {
  const [head = '', tail] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
