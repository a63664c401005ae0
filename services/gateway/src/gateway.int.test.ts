import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from '@conveyor/stack';
import { signInAdmin, signUp } from '@conveyor/stack/testing';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { EventSourceParserStream } from 'eventsource-parser/stream';
import type { z } from 'zod';
import type { GatewayDeps } from './ports/http/deps.ts';
import { apiRoutes } from './ports/http/http-server.ts';
import { blockOrderSequences } from './testing/blocked-sequences.ts';
import { type GatewayStack, startGatewayStack } from './testing/gateway-stack.ts';
import { publishPoison } from './testing/poison.ts';

const routes = apiRoutes({ backends: {} } as unknown as GatewayDeps);
const checked = new Set<string>();
/** Successful JSON responses seen, by route, to validate against the served OpenAPI document. */
const seen: { method: string; path: string; status: number; body: unknown }[] = [];

describe('gateway over real services (processes)', () => {
  let stack: GatewayStack;

  before(async () => {
    // As behind a TLS-terminating proxy on this host: its X-Forwarded-Proto is believed.
    stack = await startGatewayStack('gw_int', { GATEWAY_TRUSTED_PROXIES: '127.0.0.1,::1' });
  });
  after(async () => {
    await stack?.stop();
  });

  /** Calls the gateway; a 2xx JSON body is validated against the route's schema in the OpenAPI source. */
  async function api(
    method: 'GET' | 'POST',
    path: string,
    options: { body?: unknown; cookie?: string; token?: string; headers?: Record<string, string> } = {},
  ) {
    const headers: Record<string, string> = { ...options.headers };
    if (options.cookie) headers.cookie = options.cookie;
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (method === 'POST' && !headers['content-type']) headers['content-type'] = 'application/json';
    const response = await fetch(`${stack.url}${path}`, {
      method,
      headers,
      ...(method === 'POST' ? { body: JSON.stringify(options.body ?? {}) } : {}),
    });
    const text = await response.text();
    const body = text ? JSON.parse(text) : undefined;
    const route = routes.find(
      (r) =>
        r.method === method &&
        new RegExp(`^${r.path.replace(/\{\w+\}/g, '[^/]+')}$`).test(path.split('?')[0] as string),
    );
    if (response.ok && route && route.response !== 'sse') {
      const result = (route.response as z.ZodType).safeParse(body);
      assert.ok(
        result.success,
        `${method} ${path}: response does not match its documented schema: ${result.error}`,
      );
      checked.add(`${method} ${route.path}`);
      seen.push({ method: method.toLowerCase(), path: route.path, status: response.status, body });
    }
    if (!response.ok) {
      assert.match(response.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.equal(body.status, response.status);
    }
    return { status: response.status, body, headers: response.headers };
  }

  async function signUpViaGateway(tag: string) {
    const email = `${tag}-${crypto.randomUUID().slice(0, 8)}@conveyor.test`;
    const signedUp = await api('POST', '/api/signup', {
      body: { email, name: `Gateway ${tag}`, password: 'correct horse battery' },
    });
    assert.equal(signedUp.status, 202, JSON.stringify(signedUp.body));
    assert.equal(signedUp.headers.get('set-cookie'), null, 'sign-up alone signs no one in');
    const res = await api('POST', '/api/login', { body: { email, password: 'correct horse battery' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const setCookie = res.headers.get('set-cookie') ?? '';
    return { res, setCookie, cookie: setCookie.split(';')[0] as string, user: res.body.user };
  }

  it('serves the console with security headers and closed CORS', async () => {
    const page = await fetch(`${stack.url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>Conveyor console<\/title>/);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(page.headers.get('strict-transport-security'), null, 'no HSTS over plain http');
    const js = await fetch(`${stack.url}/js/app.js`);
    assert.match(js.headers.get('content-type') ?? '', /text\/javascript/);
    const traversal = await fetch(`${stack.url}/..%2f..%2fpackage.json`);
    assert.doesNotMatch(await traversal.text(), /"workspaces"/);
    assert.equal((await fetch(`${stack.url}/%E0%A4%A.js`)).status, 404, 'malformed escapes are not a crash');

    const preflight = await fetch(`${stack.url}/api/orders`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.status, 403);
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
    const cross = await fetch(`${stack.url}/api/products`, { headers: { origin: 'https://evil.example' } });
    assert.equal(cross.headers.get('access-control-allow-origin'), null);
    const https = await fetch(`${stack.url}/api/products`, { headers: { 'x-forwarded-proto': 'https' } });
    assert.match(https.headers.get('strict-transport-security') ?? '', /max-age=/);
  });

  it('rejects bad input with problem details naming the field', async () => {
    const bad = await api('POST', '/api/signup', {
      body: { email: 'not-an-email', name: 'x', password: 'long enough pw' },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.field, 'email');
    assert.match(bad.body.detail, /^email: /);
    const short = await api('POST', '/api/signup', {
      body: { email: 'a@b.co', name: 'x', password: 'short' },
    });
    assert.equal(short.body.field, 'password');
    const form = await api('POST', '/api/login', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(form.status, 415, 'a form post (CSRF vector) is refused');
    const big = await api('POST', '/api/login', { body: { email: 'a@b.co', password: 'x'.repeat(70_000) } });
    assert.equal(big.status, 413);
    assert.equal((await api('GET', '/api/nope')).status, 404);
    assert.equal((await api('GET', '/api/signup')).status, 405);
    const malformed = await api('GET', '/api/orders/%E0%A4%A');
    assert.equal(malformed.status, 400, 'a malformed path parameter is a bad request, not a crash');
    assert.equal(malformed.body.field, 'id');
    const anonymous = await api('GET', '/api/orders');
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer');
    const wrong = await api('POST', '/api/login', {
      body: { email: 'nobody@conveyor.test', password: 'whatever-password' },
    });
    assert.equal(wrong.status, 401);
  });

  it('signs up with an HttpOnly SameSite=Strict cookie, accepts bearer tokens, logs out', async () => {
    const { setCookie, cookie, user } = await signUpViaGateway('session');
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    assert.doesNotMatch(setCookie, /Secure/, 'not Secure over plain http');
    // This browser signed in to the account: a device cookie lets it in while others' guesses lock it.
    assert.match(setCookie, /conveyor_device=[\w.-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=2592000/);
    const me = await api('GET', '/api/me', { cookie });
    assert.equal(me.status, 200);
    assert.equal(me.body.user.id, user.id);
    assert.equal(me.body.user.role, 'customer');
    // A taken address is answered exactly as a new one (the owner is mailed instead).
    const again = await api('POST', '/api/signup', {
      body: { email: user.email, name: 'Twin', password: 'another horse battery' },
    });
    const fresh = await api('POST', '/api/signup', {
      body: {
        email: `fresh-${crypto.randomUUID()}@conveyor.test`,
        name: 'Fresh',
        password: 'correct horse battery',
      },
    });
    assert.deepEqual([again.status, again.body], [fresh.status, fresh.body]);
    assert.equal(again.headers.get('set-cookie'), null);

    const other = await signUp(`127.0.0.1:${stack.users.grpcPort}`);
    const bearer = await api('GET', '/api/me', { token: other.token });
    assert.equal(bearer.body.user.id, other.userId);

    const out = await api('POST', '/api/logout', { cookie });
    assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
    // Logging out ends the session for good: the old cookie's token is refused, not only forgotten.
    assert.equal((await api('GET', '/api/me', { cookie })).status, 401);
    // /api/session (what the console asks) says "nobody" with a 200: no session, a revoked one, junk.
    for (const who of [{}, { cookie }, { token: 'not-a-token' }]) {
      const session = await api('GET', '/api/session', who);
      assert.deepEqual(
        [session.status, session.body],
        [200, { user: null, expiresAt: null }],
        JSON.stringify(who),
      );
    }
    const signedIn = await api('GET', '/api/session', { token: other.token });
    assert.equal(signedIn.status, 200);
    assert.equal(signedIn.body.user.id, other.userId);
    assert.ok(signedIn.body.expiresAt);
    assert.equal((await api('POST', '/api/logout', { cookie })).status, 200, 'twice is fine');
    const https = await api('POST', '/api/login', {
      body: { email: other.email, password: other.password },
      headers: { 'x-forwarded-proto': 'https', 'content-type': 'application/json' },
    });
    assert.match(
      https.headers.get('set-cookie') ?? '',
      /^__Host-conveyor_session=[^;]+; Path=\/; .*; Secure/,
    );
  });

  it('places, replays, reads, time-travels and moves an order; only admins ship', async () => {
    const { cookie } = await signUpViaGateway('orders');
    const products = await api('GET', '/api/products');
    const sku = products.body.products[0].sku as string;
    const key = crypto.randomUUID();
    const placed = await api('POST', '/api/orders', {
      cookie,
      body: { items: [{ sku, quantity: 2 }] },
      headers: { 'idempotency-key': key, 'content-type': 'application/json' },
    });
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    assert.equal(placed.body.order.status, 'placed');
    const id = placed.body.order.id as string;
    const replay = await api('POST', '/api/orders', {
      cookie,
      body: { items: [{ sku, quantity: 2 }] },
      headers: { 'idempotency-key': key, 'content-type': 'application/json' },
    });
    assert.equal(replay.status, 200);
    assert.equal(replay.body.replayed, true);
    assert.equal(replay.body.order.id, id);
    const badLine = await api('POST', '/api/orders', { cookie, body: { items: [{ sku, quantity: 0 }] } });
    assert.equal(badLine.body.field, 'items.0.quantity');

    assert.equal((await api('POST', `/api/orders/${id}/pay`, { cookie })).body.order.status, 'paid');
    const denied = await api('POST', `/api/orders/${id}/ship`, {
      cookie,
      body: { carrier: 'DHL', trackingNumber: 'T1' },
    });
    assert.equal(denied.status, 403);
    const admin = await signInAdmin(`127.0.0.1:${stack.users.grpcPort}`);
    const missing = await api('POST', `/api/orders/${id}/ship`, {
      token: admin.token,
      body: { carrier: 'DHL' },
    });
    assert.equal(missing.body.field, 'trackingNumber');
    const shipped = await api('POST', `/api/orders/${id}/ship`, {
      token: admin.token,
      body: { carrier: 'DHL', trackingNumber: 'JD0146' },
    });
    assert.equal(shipped.body.order.status, 'shipped');
    assert.equal(
      (await api('POST', `/api/orders/${id}/deliver`, { token: admin.token })).body.order.status,
      'delivered',
    );
    const late = await api('POST', `/api/orders/${id}/cancel`, { cookie, body: { reason: 'too late' } });
    assert.equal(late.status, 409);

    await waitUntil(
      async () => (await api('GET', `/api/orders/${id}`, { cookie })).body.order.version === 4,
      {
        timeoutMs: 5000,
        message: 'read model did not reach version 4',
      },
    );
    const list = await api('GET', '/api/orders?status=delivered', { cookie });
    assert.deepEqual(
      list.body.orders.map((o: { id: string }) => o.id),
      [id],
    );
    assert.equal((await api('GET', '/api/orders?status=lost', { cookie })).body.field, 'status');
    const history = await api('GET', `/api/orders/${id}/history`, { cookie });
    assert.deepEqual(
      history.body.entries.map((e: { state: { status: string } }) => e.state.status),
      ['placed', 'paid', 'shipped', 'delivered'],
    );
    assert.equal((await api('GET', `/api/orders/${id}/at?version=2`, { cookie })).body.order.status, 'paid');
    assert.equal((await api('GET', `/api/orders/${id}/at?version=zero`, { cookie })).body.field, 'version');
    assert.equal((await api('GET', `/api/orders/${id}/at`, { cookie })).body.field, 'version');

    const second = await api('POST', '/api/orders', { cookie, body: { items: [{ sku, quantity: 1 }] } });
    const cancelled = await api('POST', `/api/orders/${second.body.order.id}/cancel`, {
      cookie,
      body: { reason: 'changed my mind' },
    });
    assert.equal(cancelled.body.order.status, 'cancelled');
    assert.equal(cancelled.body.order.cancelReason, 'changed my mind');

    const stranger = await signUpViaGateway('stranger');
    const foreign = await api('GET', `/api/orders/${id}`, { cookie: stranger.cookie });
    assert.ok([403, 404].includes(foreign.status), `a stranger reads another's order: ${foreign.status}`);
  });

  it('streams live order status over SSE and the notification inbox', async () => {
    const { cookie, user } = await signUpViaGateway('live');
    const sku = (await api('GET', '/api/products')).body.products[0].sku as string;
    const { body } = await api('POST', '/api/orders', { cookie, body: { items: [{ sku, quantity: 1 }] } });
    const id = body.order.id as string;
    const events = await readSse(`${stack.url}/api/events/orders/${id}`, cookie, async (seen) => {
      if (seen.length === 1) await api('POST', `/api/orders/${id}/pay`, { cookie });
      return seen.some((e) => e.data.status === 'paid');
    });
    assert.equal(events[0]?.event, 'order');
    assert.equal(events[0]?.data.status, 'placed');
    assert.equal(events.at(-1)?.data.status, 'paid');

    const inbox = await readSse(`${stack.url}/api/events/notifications`, cookie, async (seen) =>
      seen.some((e) =>
        e.data.notifications?.some(
          (n: { subject: string; status: string }) => /confirmed/.test(n.subject) && n.status === 'sent',
        ),
      ),
    );
    const last = inbox.at(-1)?.data.notifications ?? [];
    assert.ok(
      last.every((n) => n.userId === user.id),
      'only the caller’s notifications',
    );
    const listed = await api('GET', '/api/notifications', { cookie });
    assert.ok(listed.body.notifications.length >= 2);
  });

  it('shows operations to admins only: health, metrics, dead letters and redrive, rebuild progress', async () => {
    const customer = await signUpViaGateway('ops');
    assert.equal((await api('GET', '/api/ops/snapshot', { cookie: customer.cookie })).status, 403);
    assert.equal((await api('GET', '/api/ops/dead-letters', { cookie: customer.cookie })).status, 403);
    const admin = await signInAdmin(`127.0.0.1:${stack.users.grpcPort}`);
    const snapshot = await api('GET', '/api/ops/snapshot', { token: admin.token });
    assert.deepEqual(
      snapshot.body.health.map((h: { name: string; ready: boolean }) => [h.name, h.ready]),
      [
        ['users', true],
        ['orders', true],
        ['notifications', true],
        ['gateway', true],
      ],
    );
    assert.ok(snapshot.body.metrics.every((m: { up: boolean }) => m.up));

    const eventId = await publishPoison(stack.natsOptions());
    let dead: { id: string; eventId: string } | undefined;
    await waitUntil(
      async () => {
        const { body } = await api('GET', '/api/ops/dead-letters', { token: admin.token });
        dead = body.deadLetters.find((d: { eventId: string }) => d.eventId === eventId);
        return dead !== undefined;
      },
      { timeoutMs: 10_000, message: 'the poison message was not dead-lettered' },
    );
    const shown = await api('GET', `/api/ops/dead-letters/${dead!.id}`, { token: admin.token });
    assert.equal(shown.body.deadLetter.payload, '{"poison":true}');
    const redriven = await api('POST', `/api/ops/dead-letters/${dead!.id}/redrive`, { token: admin.token });
    assert.deepEqual(redriven.body.redriven, [dead!.id]);
    assert.equal((await api('GET', `/api/ops/dead-letters/${dead!.id}`, { token: admin.token })).status, 404);

    const rebuild = await fetch(`${stack.url}/api/ops/projections/rebuild`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.match(rebuild.headers.get('content-type') ?? '', /text\/event-stream/);
    const text = await rebuild.text();
    assert.match(text, /event: progress/);
    assert.match(text, /event: done/);
  });

  it('lists sequenced dead letters of orders and notifications to admins only; shows, redrives and discards them', async () => {
    const base = '/api/ops/dead-letter-sequences';
    const customer = await signUpViaGateway('sequences');
    assert.equal((await api('GET', base)).status, 401);
    assert.equal((await api('GET', base, { cookie: customer.cookie })).status, 403);
    const refused = await api('POST', `${base}/orders/1/redrive`, { cookie: customer.cookie });
    assert.equal(refused.status, 403);
    const { token } = await signInAdmin(`127.0.0.1:${stack.users.grpcPort}`);
    // The service and the id are checked at the edge: a clear 400 naming the part.
    for (const [path, field] of [
      [`${base}/users/1`, 'service'],
      [`${base}/orders/12a`, 'id'],
      [`${base}/orders/0`, 'id'],
      [`${base}/orders/${'9'.repeat(19)}`, 'id'],
      [`${base}?service=users`, 'service'],
      [`${base}?pageToken=orders:1;drop`, 'pageToken'],
    ] as const) {
      const bad = await api('GET', path, { token });
      assert.deepEqual([bad.status, bad.body.field], [400, field], path);
    }

    // Two orders whose order.paid the projection keeps refusing: each a dead head, order.shipped parked behind.
    const blocked = await blockOrderSequences(stack, 2);
    const [first, second] = blocked.orderIds as [string, string];
    const keys = blocked.orderIds.map((id) => `orderId:${id}`);
    const mine = async () =>
      (await api('GET', base, { token })).body.sequences.filter((s: { head: { sequenceKey: string } }) =>
        keys.includes(s.head.sequenceKey),
      );
    const listed = await mine();
    assert.deepEqual(
      listed.map((s: { service: string; head: Record<string, unknown>; parkedBehind: number }) => [
        s.service,
        s.head.consumer,
        s.head.state,
        s.head.eventType,
        s.parkedBehind,
      ]),
      [
        ['orders', 'orders-projections', 'dead', 'order.paid', 1],
        ['orders', 'orders-projections', 'dead', 'order.paid', 1],
      ],
    );
    assert.match(listed[0].head.reason, /test refuses the paid row of order/);
    const head = blocked.heads.get(first) as string;
    const shown = await api('GET', `${base}/orders/${head}`, { token });
    assert.equal(shown.body.total, 2);
    assert.deepEqual(
      shown.body.messages.map((m: { state: string; eventType: string }) => [m.state, m.eventType]),
      [
        ['dead', 'order.paid'],
        ['parked', 'order.shipped'],
      ],
    );
    assert.equal(JSON.parse(shown.body.messages[0].payload).orderId, first);
    const parkedId = shown.body.messages[1].id as string;
    assert.equal((await api('POST', `${base}/orders/${parkedId}/redrive`, { token })).status, 409);
    assert.equal((await api('GET', `${base}/orders/999999999`, { token })).status, 404);

    // Discarding drops an event unapplied: the body must say so, and false is refused by the service.
    const other = blocked.heads.get(second) as string;
    const unconfirmed = await api('POST', `${base}/orders/${other}/discard`, { token, body: {} });
    assert.deepEqual([unconfirmed.status, unconfirmed.body.field], [400, 'confirm']);
    const declined = await api('POST', `${base}/orders/${other}/discard`, {
      token,
      body: { confirm: false },
    });
    assert.equal(declined.status, 409);
    assert.match(declined.body.detail, /confirm/);

    await blocked.lift();
    const redriven = await api('POST', `${base}/orders/${head}/redrive`, { token });
    assert.deepEqual(redriven.body, {
      service: 'orders',
      id: head,
      applied: 2,
      deadAgainId: '',
      deadAgainReason: '',
      continuing: false,
    });
    const discarded = await api('POST', `${base}/orders/${other}/discard`, {
      token,
      body: { confirm: true },
    });
    assert.equal(discarded.status, 200, JSON.stringify(discarded.body));
    assert.deepEqual([discarded.body.applied, discarded.body.deadAgainId], [1, '']);
    assert.deepEqual(await mine(), [], 'both sequences are released');
    assert.equal((await api('POST', `${base}/orders/${head}/redrive`, { token })).status, 404);
    // Redrive applied paid then shipped; discard skipped paid, and shipped refolded the order from its events.
    for (const id of blocked.orderIds) {
      const { body } = await api('GET', `/api/orders/${id}`, { token: blocked.customerToken });
      assert.equal(body.order.status, 'shipped', id);
    }
  });

  it('shows every consumer to admins only; pauses with a reason, resets only when paused and confirmed, resumes', async () => {
    const base = '/api/ops/consumers';
    const users = `${base}/notifications/USERS/notifications`;
    const customer = await signUpViaGateway('consumers');
    assert.equal((await api('GET', base)).status, 401);
    assert.equal((await api('GET', base, { cookie: customer.cookie })).status, 403);
    assert.equal((await api('POST', `${users}/pause`, { cookie: customer.cookie })).status, 403);
    const { token } = await signInAdmin(`127.0.0.1:${stack.users.grpcPort}`);
    const listed = await api('GET', base, { token });
    assert.deepEqual(
      listed.body.consumers.map((c: { service: string; stream: string; durable: string; paused: boolean }) =>
        [c.service, c.stream, c.durable, c.paused].join(' '),
      ),
      [
        'orders ORDERS orders-projections false',
        'notifications USERS notifications false',
        'notifications ORDERS notifications false',
      ],
    );
    // Names and bodies are checked at the edge: a clear 400 naming the part.
    for (const [path, body, field] of [
      [`${base}/users/USERS/notifications/pause`, {}, 'service'],
      [`${base}/notifications/US.ERS/notifications/pause`, {}, 'stream'],
      [`${users}/pause`, { reason: 'x'.repeat(201) }, 'reason'],
      [`${users}/reset`, { confirm: true }, 'startSequence'],
      [
        `${users}/reset`,
        { startSequence: 1, startTime: new Date().toISOString(), confirm: true },
        'startSequence',
      ],
      [`${users}/reset`, { startTime: 'yesterday', confirm: true }, 'startTime'],
      [`${users}/reset`, { startSequence: 1 }, 'confirm'],
    ] as const) {
      const bad = await api('POST', path, { token, body });
      assert.deepEqual([bad.status, bad.body.field], [400, field], `${path} ${JSON.stringify(body)}`);
    }
    assert.equal((await api('POST', `${base}/notifications/USERS/nobody/pause`, { token })).status, 404);
    const running = await api('POST', `${users}/reset`, { token, body: { startSequence: 1, confirm: true } });
    assert.equal(running.status, 409);
    assert.match(running.body.detail, /is not paused: pause it first/);
    try {
      const paused = await api('POST', `${users}/pause`, { token, body: { reason: 'gateway test' } });
      assert.equal(paused.status, 200, JSON.stringify(paused.body));
      assert.deepEqual([paused.body.paused, paused.body.reason], [true, 'gateway test']);
      const declined = await api('POST', `${users}/reset`, {
        token,
        body: { startSequence: 1, confirm: false },
      });
      assert.equal(declined.status, 409);
      assert.match(declined.body.detail, /confirm/);
      const future = await api('POST', `${users}/reset`, {
        token,
        body: { startTime: new Date(Date.now() + 3_600_000).toISOString(), confirm: true },
      });
      assert.equal(future.status, 400);
      const reset = await api('POST', `${users}/reset`, { token, body: { startSequence: 1, confirm: true } });
      assert.equal(reset.status, 200, JSON.stringify(reset.body));
      assert.deepEqual([reset.body.paused, reset.body.startsAt], [true, 'sequence 1']);
      assert.match(reset.body.lastReset, /^to sequence 1 at /);
    } finally {
      const resumed = await api('POST', `${users}/resume`, { token });
      assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
      assert.equal(resumed.body.paused, false);
    }
  });

  it('lists the timers due soonest to admins only: an unpaid order’s payment timeout, gone once paid', async () => {
    const customer = await signUpViaGateway('timers');
    assert.equal((await api('GET', '/api/ops/timers')).status, 401);
    assert.equal((await api('GET', '/api/ops/timers', { cookie: customer.cookie })).status, 403);
    const { token } = await signInAdmin(`127.0.0.1:${stack.users.grpcPort}`);
    for (const limit of ['0', '501', 'ten', '1'.repeat(40)]) {
      const bad = await api('GET', `/api/ops/timers?limit=${limit}`, { token });
      assert.deepEqual([bad.status, bad.body.field], [400, 'limit'], limit);
    }
    const products = await api('GET', '/api/products');
    const placed = await api('POST', '/api/orders', {
      cookie: customer.cookie,
      body: { items: [{ sku: products.body.products[0].sku, quantity: 1 }] },
      headers: { 'idempotency-key': crypto.randomUUID(), 'content-type': 'application/json' },
    });
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    const id = placed.body.order.id as string;
    type Timer = { service: string; key: string; kind: string; dueAt: string; firing: boolean };
    const listed = await api('GET', '/api/ops/timers?limit=500', { token });
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    const timer = (listed.body.timers as Timer[]).find((t) => t.key.includes(id));
    assert.ok(timer, `no timer for ${id} in ${JSON.stringify(listed.body)}`);
    assert.deepEqual([timer.service, timer.kind, timer.firing], ['orders', 'order.payment-timeout', false]);
    // ORDER_PAYMENT_TIMEOUT is 30 minutes here: due half an hour after the order was placed.
    const dueIn = Date.parse(timer.dueAt) - Date.parse(placed.body.order.placedAt);
    assert.ok(Math.abs(dueIn - 30 * 60_000) < 5000, `due ${dueIn} ms after placing`);
    assert.ok(listed.body.total >= 1);
    const dues = (listed.body.timers as Timer[]).map((t) => t.dueAt);
    assert.deepEqual(dues, [...dues].sort(), 'soonest first');
    assert.equal((await api('POST', `/api/orders/${id}/pay`, { cookie: customer.cookie })).status, 200);
    const after = await api('GET', '/api/ops/timers?limit=500', { token });
    assert.equal((after.body.timers as Timer[]).filter((t) => t.key.includes(id)).length, 0);
  });

  it('documents every route in OpenAPI 3.1, and every checked response matched its schema', async () => {
    const doc = await api('GET', '/api/openapi.json');
    assert.equal(doc.body.openapi, '3.1.0');
    for (const route of routes) {
      const op = doc.body.paths[route.path]?.[route.method.toLowerCase()];
      assert.ok(op, `${route.method} ${route.path} is not documented`);
      assert.ok(op.responses[String(route.status ?? 200)], `${route.method} ${route.path}: success response`);
    }
    // Every response seen also validates against the JSON Schema the document itself serves.
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    for (const { method, path, status, body } of seen) {
      const responses = doc.body.paths[path][method].responses;
      assert.ok(responses[String(status)], `${method} ${path}: status ${status} is not documented`);
      // Its named schemas are components of the document: `#/components/schemas/…` resolves in it.
      const schema = responses[String(status)].content['application/json'].schema;
      const validate = ajv.compile({ ...schema, components: doc.body.components });
      assert.ok(validate(body), `${method} ${path} ${status}: ${ajv.errorsText(validate.errors)}`);
    }
    const json = routes.filter((r) => r.response !== 'sse').map((r) => `${r.method} ${r.path}`);
    const unchecked = json.filter((r) => !checked.has(r));
    assert.deepEqual(unchecked, [], 'routes whose responses no test validated');
  });
});

interface SseEvent {
  event: string;
  data: { status?: string; notifications?: { subject: string; status: string; userId: string }[] };
}

/** Reads an event stream until `done(seen)` is true (10 s at most), then disconnects. */
async function readSse(
  url: string,
  cookie: string,
  done: (seen: SseEvent[]) => Promise<boolean>,
): Promise<SseEvent[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 10_000);
  const seen: SseEvent[] = [];
  try {
    const response = await fetch(url, {
      headers: { cookie, accept: 'text/event-stream' },
      signal: controller.signal,
    });
    assert.equal(response.status, 200);
    const events = response
      .body!.pipeThrough(new TextDecoderStream())
      .pipeThrough(new EventSourceParserStream());
    for await (const { event, data } of events) {
      if (!event) continue;
      seen.push({ event, data: JSON.parse(data) });
      if (await done(seen)) return seen;
    }
    return seen;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}
