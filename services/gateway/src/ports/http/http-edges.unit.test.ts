import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { InvalidArgument } from '@conveyor/platform/errors';
import { Metadata, status } from '@grpc/grpc-js';
import { pino } from 'pino';
import type { GatewayDeps } from './deps.ts';
import { gatewayApp } from './http-server.ts';
import { problem, toProblem } from './problem.ts';
import { clientAddress, sessionCookie, trustedProxies } from './security.ts';
import { SseStreams } from './sse.ts';

/** The part of a ServerResponse SseStreams uses; `destroyed` as after the client left. */
function fakeResponse(destroyed: boolean) {
  const listeners: (() => void)[] = [];
  const res = {
    destroyed,
    ended: false,
    writeHead: () => res,
    write: () => true,
    end: () => {
      res.ended = true;
    },
    on: (_event: string, listener: () => void) => listeners.push(listener),
    leave: () => {
      for (const listener of listeners) listener();
    },
  };
  return res;
}

/** The app on a node server over a stub orders backend that records what it was asked. */
async function stubApp() {
  const asked: unknown[] = [];
  const backends = {
    orders: { getOrder: 'getOrder' },
    call: async (_backend: string, _method: unknown, request: unknown) => {
      asked.push(request);
      return { order: undefined };
    },
  };
  const deps = { backends } as unknown as GatewayDeps;
  const app = gatewayApp(deps, {
    bodyLimitBytes: 1024,
    webRoot: '/nonexistent',
    logger: pino({ level: 'silent' }),
  });
  const edge = { span: { matched() {} }, label: '', secure: false, clientAddress: '198.51.100.1' };
  const server = createServer((req, res) => void app(req, res, edge)).listen(0, '127.0.0.1');
  await once(server, 'listening');
  after(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const request = async (method: string, path: string, init: RequestInit = {}) => {
    const headers = { authorization: 'Bearer t', ...(init.headers as Record<string, string>) };
    const res = await fetch(base + path, { method, ...init, headers });
    return {
      status: res.status,
      allow: res.headers.get('allow'),
      body: (method === 'HEAD' ? {} : await res.json()) as Record<string, unknown>,
    };
  };
  return { asked, request };
}

describe('HTTP edge pieces', () => {
  it('maps gRPC status codes to problem details, keeping the invalid field', () => {
    const metadata = new Metadata();
    metadata.set('invalid-field', 'items');
    const bad = toProblem({ code: status.INVALID_ARGUMENT, details: 'items: must not be empty', metadata });
    assert.deepEqual(bad.body, {
      type: 'https://conveyor.dev/problems/invalid-argument',
      title: 'Bad request',
      status: 400,
      detail: 'items: must not be empty',
      field: 'items',
    });
    const cases: [number, number][] = [
      [status.UNAUTHENTICATED, 401],
      [status.PERMISSION_DENIED, 403],
      [status.NOT_FOUND, 404],
      [status.FAILED_PRECONDITION, 409],
      [status.ALREADY_EXISTS, 409],
      [status.RESOURCE_EXHAUSTED, 429],
      [status.UNAVAILABLE, 503],
      [status.DEADLINE_EXCEEDED, 504],
    ];
    for (const [code, http] of cases) assert.equal(toProblem({ code, details: 'x' }).body.status, http);
    assert.equal(toProblem(new InvalidArgument('email', 'bad')).body.field, 'email');
    assert.equal(toProblem(problem.tooLarge(10)).body.status, 413);
    const internal = toProblem(new Error('secret internals'));
    assert.equal(internal.internal, true);
    assert.equal(internal.body.detail, 'internal error');
  });

  it('routes by template, decodes parameters, and tells allowed methods', async () => {
    const { asked, request } = await stubApp();
    assert.equal((await request('GET', '/api/orders/a%2Fb')).status, 200);
    assert.deepEqual(asked, [{ orderId: 'a/b' }]);
    const wrong = await request('DELETE', '/api/orders/1');
    assert.deepEqual([wrong.status, wrong.allow, wrong.body.detail], [405, 'GET', 'allowed: GET']);
    assert.equal((await request('GET', '/api/orders/1/pay/x')).status, 404);
    const head = await request('HEAD', '/api/events/notifications');
    assert.deepEqual([head.status, head.allow], [405, 'GET'], 'no stream for a HEAD');
  });

  it('names an unknown path in its 404 without echoing a long one back whole', async () => {
    const { request } = await stubApp();
    const long = `/${'x'.repeat(8000)}`;
    for (const path of [`/api${long}`, `${long}.js`]) {
      const missing = await request('GET', path);
      assert.equal(missing.status, 404);
      const detail = String(missing.body.detail);
      assert.ok(detail.length <= 300, `a ${detail.length}-character detail`);
      assert.match(detail, /xxx…/);
    }
    assert.match(String((await request('GET', '/api/nope')).body.detail), /^no route GET \/api\/nope;/);
  });

  it('answers a malformed percent-encoded parameter with 400 naming it, not a URIError', async () => {
    const { asked, request } = await stubApp();
    const bad = await request('GET', '/api/orders/%E0%A4%A');
    assert.deepEqual([bad.status, bad.body.field], [400, 'id']);
    assert.deepEqual(asked, [], 'the backend is not asked');
  });

  it('reads an empty JSON body as {}, and refuses malformed JSON, another type and too much with problems', async () => {
    const { request } = await stubApp();
    // Signed out: log-out answers without asking the users service.
    const json = { 'content-type': 'application/json', authorization: '' };
    assert.deepEqual((await request('POST', '/api/logout', { headers: json })).body, { loggedOut: true });
    const malformed = await request('POST', '/api/logout', { headers: json, body: '{' });
    assert.deepEqual([malformed.status, malformed.body.field], [400, 'body']);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    assert.equal((await request('POST', '/api/logout', { headers: form, body: 'a=1' })).status, 415);
    const big = await request('POST', '/api/logout', { headers: json, body: `"${'x'.repeat(2000)}"` });
    assert.deepEqual([big.status, big.body.detail], [413, 'the body exceeds 1024 bytes']);
  });

  it('bounds live streams and frees a slot when a client leaves, even before its stream started', async () => {
    const streams = new SseStreams(1);
    const live = fakeResponse(false);
    const first = streams.start(live as never, { heartbeatMs: 60_000 });
    assert.equal(streams.open, 1);
    assert.throws(
      () => streams.start(fakeResponse(false) as never),
      (e: unknown) => {
        assert.equal(toProblem(e).body.status, 503);
        return true;
      },
    );
    live.leave();
    await first.done;
    assert.equal(first.closed, true);
    assert.equal(streams.open, 0);
    const gone = streams.start(fakeResponse(true) as never, { heartbeatMs: 60_000 });
    assert.equal(gone.closed, true, 'a client that already left gets no polling stream');
    await gone.done;
    assert.equal(streams.open, 0);
    const last = streams.start(fakeResponse(false) as never, { heartbeatMs: 60_000 });
    streams.closeAll();
    assert.equal(last.closed, true);
    assert.equal(streams.open, 0);
  });

  it('bounds live streams per user too: one account cannot hold them all', async () => {
    const streams = new SseStreams(10, 2);
    const open = (owner: string) =>
      streams.start(fakeResponse(false) as never, { owner, heartbeatMs: 60_000 });
    const [a1] = [open('alice'), open('alice')];
    assert.throws(
      () => open('alice'),
      (e: unknown) => {
        const { body } = toProblem(e);
        assert.equal(body.status, 429);
        assert.match(String(body.detail), /2 live streams per user/);
        return true;
      },
    );
    open('bob');
    a1?.close();
    open('alice');
    assert.equal(streams.open, 3);
    streams.closeAll();
  });

  it('builds HttpOnly SameSite=Strict cookies, Secure only when asked', () => {
    assert.equal(
      sessionCookie('t k', 60.7, false, 's'),
      's=t%20k; Path=/; HttpOnly; SameSite=Strict; Max-Age=60',
    );
    assert.match(sessionCookie('t', 1, true, 's'), /; Secure$/);
  });
});

describe('client address for edge limits', () => {
  const request = (peer: string, forwardedFor?: string) =>
    ({
      socket: { remoteAddress: peer },
      headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
    }) as unknown as Parameters<typeof clientAddress>[0];
  const trusted = trustedProxies(['10.0.0.0/8']);

  it('is the peer unless the peer is a trusted proxy', () => {
    assert.equal(clientAddress(request('198.51.100.1', '203.0.113.9'), trusted), '198.51.100.1');
    assert.equal(clientAddress(request('::ffff:198.51.100.1'), trusted), '198.51.100.1');
    assert.equal(clientAddress(request('10.1.2.3', '203.0.113.9'), trusted), '203.0.113.9');
  });

  it('walks X-Forwarded-For from the right past trusted hops; what a client writes on the left is ignored', () => {
    assert.equal(
      clientAddress(request('10.1.2.3', '1.2.3.4, 203.0.113.9, 10.4.5.6'), trusted),
      '203.0.113.9',
    );
    assert.equal(clientAddress(request('10.1.2.3', 'garbage, 203.0.113.9'), trusted), '203.0.113.9');
    assert.equal(
      clientAddress(request('10.1.2.3', '10.7.7.7'), trusted),
      '10.7.7.7',
      'all trusted: the leftmost',
    );
  });

  it('counts IPv6 clients per /64', () => {
    assert.equal(clientAddress(request('2001:db8:1:2:aaaa::1'), trusted), '2001:db8:1:2::/64');
    assert.equal(clientAddress(request('2001:db8:1:2:bbbb:cccc:dddd:eeee'), trusted), '2001:db8:1:2::/64');
    assert.equal(clientAddress(request('::1'), trusted), '0:0:0:0::/64');
  });
});
