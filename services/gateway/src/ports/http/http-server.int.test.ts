import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { GatewayDeps } from './deps.ts';
import { createGatewayServer, type HttpOptions } from './http-server.ts';
import { SseStreams } from './sse.ts';

/**
 * The gateway's HTTP edge as a real server, with no backends behind it: what it decides before any
 * backend is asked (admission, which proxy to believe, the session cookie's name).
 */
const deps = {
  backends: {} as GatewayDeps['backends'],
  limits: { scope: 'replica', take: async () => ({ allowed: true }) },
  snapshot: async () => {
    throw new Error('not in this test');
  },
  streams: new SseStreams(10, 2),
  sseIntervalMs: 1000,
  opsIntervalMs: 1000,
  rebuildDeadlineMs: 1000,
  newIdempotencyKey: () => 'k',
  logProblem: (e: unknown) => e,
} satisfies GatewayDeps;

async function serve(options: Partial<HttpOptions>) {
  const server = createGatewayServer(deps, {
    corsOrigins: [],
    bodyLimitBytes: 65_536,
    secureCookies: 'auto',
    webRoot: '/nonexistent',
    logger: pino({ level: 'silent' }),
    ...options,
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<IncomingMessage & { body: string }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve(Object.assign(res, { body })));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

describe('gateway HTTP edge (real server, no backends)', () => {
  let plain: Awaited<ReturnType<typeof serve>>;
  let behindProxy: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    plain = await serve({ maxInFlight: 2 });
    behindProxy = await serve({ trustedProxies: ['127.0.0.0/8'] });
  });
  after(() => {
    plain.server.closeAllConnections();
    plain.server.close();
    behindProxy.server.closeAllConnections();
    behindProxy.server.close();
  });

  it('believes X-Forwarded-Proto only from a trusted proxy', async () => {
    const told = { 'x-forwarded-proto': 'https' };
    const untrusted = await get(plain.port, '/api/openapi.json', told);
    assert.equal(untrusted.statusCode, 200);
    assert.equal(untrusted.headers['cache-control'], 'no-store', 'API answers are never cached');
    assert.equal(untrusted.headers['strict-transport-security'], undefined, 'any client could claim https');
    const trusted = await get(behindProxy.port, '/api/openapi.json', told);
    assert.match(String(trusted.headers['strict-transport-security']), /max-age=/);
  });

  it('names the session cookie __Host- over https, so no http page or subdomain can set it', async () => {
    const json = { 'content-type': 'application/json' };
    const secure = await get(
      behindProxy.port,
      '/api/logout',
      { ...json, 'x-forwarded-proto': 'https' },
      'POST',
    );
    assert.match(String(secure.headers['set-cookie']), /^__Host-conveyor_session=; Path=\/; .*Secure/);
    const insecure = await get(behindProxy.port, '/api/logout', json, 'POST');
    assert.match(String(insecure.headers['set-cookie']), /^conveyor_session=; Path=\//);
  });

  it('serves an HTTP/1.0 request without Host, and answers a target it cannot parse with a 400 problem', async () => {
    const raw = async (text: string) => {
      const socket = connect(plain.port, '127.0.0.1');
      socket.end(text);
      let out = '';
      for await (const chunk of socket) out += chunk;
      return out;
    };
    assert.match(await raw('GET /api/openapi.json HTTP/1.0\r\n\r\n'), /^HTTP\/1\.1 200 /);
    const bad = await raw('GET /api\\openapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(bad, /^HTTP\/1\.1 400 /);
    assert.match(bad, /content-type: application\/problem\+json/i);
  });

  it('answers 503 with Retry-After at once beyond its in-flight limit, and admits again after', async () => {
    // Two log-ins whose bodies never come: each holds a slot while the gateway waits for it.
    const held = [0, 1].map(() => {
      const req = httpRequest({
        host: '127.0.0.1',
        port: plain.port,
        path: '/api/login',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': '100' },
      });
      req.on('error', () => {});
      req.flushHeaders();
      return req;
    });
    let refused: IncomingMessage & { body: string } = await get(plain.port, '/api/openapi.json');
    for (let i = 0; i < 200 && refused.statusCode !== 503; i++)
      refused = await get(plain.port, '/api/openapi.json');
    assert.equal(refused.statusCode, 503);
    assert.equal(refused.headers['retry-after'], '1');
    assert.match(refused.body, /too many requests in flight/);
    for (const req of held) req.destroy();
    let admitted = await get(plain.port, '/api/openapi.json');
    for (let i = 0; i < 200 && admitted.statusCode !== 200; i++)
      admitted = await get(plain.port, '/api/openapi.json');
    assert.equal(admitted.statusCode, 200);
  });
});
