import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from '@conveyor/stack';
import {
  type ReceivedSpan,
  type SignedIn,
  signInAdmin,
  signUp,
  startOtlpReceiver,
} from '@conveyor/stack/testing';
import { type GatewayStack, startGatewayStack } from './testing/gateway-stack.ts';

const SERVER = 2;
const CLIENT = 3;

/** A fresh W3C trace context, as a browser or a proxy in front of the gateway would send it. */
function incomingTrace() {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

describe('gateway HTTP server spans (processes, real OTLP/HTTP export)', () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let stack: GatewayStack;
  let customer: SignedIn;

  before(async () => {
    receiver = await startOtlpReceiver();
    stack = await startGatewayStack(
      'gw_trace',
      {},
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    );
    customer = await signUp(`127.0.0.1:${stack.users.grpcPort}`);
  });
  after(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${customer.token}`, ...headers } });

  async function placeOrder(): Promise<string> {
    const products = (await (await get('/api/products')).json()) as { products: { sku: string }[] };
    const response = await fetch(`${stack.url}/api/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${customer.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ sku: products.products[0]?.sku, quantity: 1 }] }),
    });
    assert.equal(response.status, 201);
    return ((await response.json()) as { order: { id: string } }).order.id;
  }

  /** Waits for the first exported span matching `predicate` (spans arrive once they end). */
  async function span(what: string, predicate: (s: ReceivedSpan) => boolean): Promise<ReceivedSpan> {
    await waitUntil(() => receiver.spans().some(predicate), {
      timeoutMs: 10_000,
      message: `no span: ${what}`,
    });
    return receiver.spans().find(predicate)!;
  }
  const gatewayServer = (predicate: (s: ReceivedSpan) => boolean) => (s: ReceivedSpan) =>
    s.service === 'gateway' && s.kind === SERVER && predicate(s);
  const ordersServer = (rpc: string, traceId: string) => (s: ReceivedSpan) =>
    s.service === 'orders' &&
    s.kind === SERVER &&
    s.name === `conveyor.orders.v1.OrderService/${rpc}` &&
    s.traceId === traceId;
  /** Parent, grandparent, … as far as the received spans reach. */
  function ancestors(span: ReceivedSpan): ReceivedSpan[] {
    const byId = new Map(receiver.spans().map((s) => [s.spanId, s]));
    const chain: ReceivedSpan[] = [];
    for (let p = span.parentSpanId; p && chain.length < 50; ) {
      const parent = byId.get(p);
      if (!parent) break;
      chain.push(parent);
      p = parent.parentSpanId;
    }
    return chain;
  }

  it('makes one HTTP request one trace: the backend span descends from the gateway SERVER span', async () => {
    const id = await placeOrder();
    assert.equal((await get(`/api/orders/${id}/history`)).status, 200);

    const path = `/api/orders/${id}/history`;
    const server = await span(
      `gateway GET ${path}`,
      gatewayServer((s) => s.attributes['url.path'] === path),
    );
    assert.equal(server.name, 'GET /api/orders/{id}/history', 'named by the route template, not the path');
    assert.equal(server.parentSpanId, undefined, 'no incoming traceparent: the gateway starts the trace');
    assert.deepEqual(
      [
        server.attributes['http.request.method'],
        server.attributes['http.route'],
        server.attributes['http.response.status_code'],
      ],
      ['GET', '/api/orders/{id}/history', 200],
    );

    const backend = await span(
      'orders GetOrderHistory in the same trace',
      ordersServer('GetOrderHistory', server.traceId),
    );
    const chain = ancestors(backend);
    assert.ok(
      chain.some((s) => s.spanId === server.spanId),
      `orders' span descends from the gateway's (chain: ${chain.map((s) => `${s.service}:${s.name}`).join(' ← ')})`,
    );
    assert.equal(chain[0]?.service, 'gateway');
    assert.equal(chain[0]?.kind, CLIENT, "the backend's parent is the gateway's gRPC client span");
    assert.equal(chain[0]?.parentSpanId, server.spanId, 'which is a child of the HTTP server span');
  });

  it('continues an incoming traceparent', async () => {
    const incoming = incomingTrace();
    const response = await get('/api/products', {
      traceparent: incoming.traceparent,
      tracestate: 'vendor=1',
    });
    assert.equal(response.status, 200);

    const server = await span(
      'gateway GET /api/products in the incoming trace',
      gatewayServer((s) => s.traceId === incoming.traceId),
    );
    assert.equal(server.name, 'GET /api/products');
    assert.equal(server.parentSpanId, incoming.spanId, "the caller's span is the parent");
    const backend = await span(
      'orders ListProducts in the incoming trace',
      ordersServer('ListProducts', incoming.traceId),
    );
    assert.ok(ancestors(backend).some((s) => s.spanId === server.spanId));
  });

  it('names unmatched and static requests by method only', async () => {
    const unmatched = incomingTrace();
    const nope = `/api/nope/${randomUUID()}`;
    assert.equal((await get(nope, { traceparent: unmatched.traceparent })).status, 404);
    const page = incomingTrace();
    assert.equal((await get('/', { traceparent: page.traceparent })).status, 200);

    const miss = await span(
      'unmatched',
      gatewayServer((s) => s.traceId === unmatched.traceId),
    );
    assert.equal(miss.name, 'GET');
    assert.equal(miss.attributes['http.route'], undefined);
    assert.equal(miss.attributes['url.path'], nope);
    assert.equal(miss.attributes['http.response.status_code'], 404);
    const file = await span(
      'static',
      gatewayServer((s) => s.traceId === page.traceId),
    );
    assert.equal(file.name, 'GET');
    assert.equal(file.attributes['http.response.status_code'], 200);
  });

  it("ends an event stream's span when the client disconnects", async () => {
    const id = await placeOrder();
    const incoming = incomingTrace();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 10_000);
    try {
      const response = await fetch(`${stack.url}/api/events/orders/${id}`, {
        headers: { authorization: `Bearer ${customer.token}`, traceparent: incoming.traceparent },
        signal: controller.signal,
      });
      assert.equal(response.status, 200);
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      for (let text = ''; !/event: order/.test(text); ) {
        const { value, done } = await reader.read();
        assert.ok(!done, 'the stream ended before its first event');
        text += value;
      }
    } finally {
      clearTimeout(timer);
      controller.abort(); // the client leaves; the server never ends the stream by itself
    }

    // A span is exported only once it has ended.
    const stream = await span(
      'the SSE request',
      gatewayServer((s) => s.traceId === incoming.traceId),
    );
    assert.equal(stream.name, 'GET /api/events/orders/{id}');
    assert.equal(stream.attributes['http.response.status_code'], 200);
    const poll = await span('orders GetOrder under the stream', ordersServer('GetOrder', incoming.traceId));
    assert.ok(ancestors(poll).some((s) => s.spanId === stream.spanId));
  });
  it('puts the projection rebuild stream in the request trace', async () => {
    const admin = await signInAdmin(`127.0.0.1:${stack.users.grpcPort}`);
    const incoming = incomingTrace();
    const response = await fetch(`${stack.url}/api/ops/projections/rebuild`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${admin.token}`,
        'content-type': 'application/json',
        traceparent: incoming.traceparent,
      },
      body: '{}',
    });
    assert.equal(response.status, 200);
    assert.match(await response.text(), /event: done/);

    const server = await span(
      'gateway POST rebuild',
      gatewayServer((s) => s.traceId === incoming.traceId),
    );
    assert.equal(server.name, 'POST /api/ops/projections/rebuild');
    const rebuild = await span(
      'orders RebuildProjections',
      ordersServer('RebuildProjections', incoming.traceId),
    );
    assert.ok(ancestors(rebuild).some((s) => s.spanId === server.spanId));
  });
});
