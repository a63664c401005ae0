import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ordersV1 } from '@conveyor/contracts';
import { callUnary, insecure } from '@conveyor/platform';
import { type System, startSystem, waitUntil } from '@conveyor/stack';
import { type ReceivedSpan, signUp, startOtlpReceiver } from '@conveyor/stack/testing';

const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

describe('one trace from PlaceOrder to the confirmation email (processes, real OTLP/HTTP export)', () => {
  let system: System;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;

  before(async () => {
    receiver = await startOtlpReceiver();
    system = await startSystem({
      name: 'e2e_trace',
      services: ['users', 'orders', 'notifications'],
      env: {
        all: {
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_BSP_SCHEDULE_DELAY: '100',
        },
      },
    });
  });

  after(async () => {
    await system?.stop();
    await receiver?.close();
  });

  it('links orders, the relay publish, NATS consumers, users and the SMTP send under one trace id', async (t) => {
    const customer = await signUp(system.address('users'));
    const client = new ordersV1.OrderServiceClient(system.address('orders'), insecure());
    let orderId: string;
    try {
      const placed = await callUnary(
        client,
        client.placeOrder,
        { userId: '', items: [{ sku: 'MUG-001', quantity: 1 }], idempotencyKey: randomUUID() },
        { deadlineMs: 10_000, metadata: customer.metadata() },
      );
      orderId = placed.order!.id;
    } finally {
      client.close();
    }
    await system.smtp.waitFor((m) => m.to.includes(customer.email) && /confirmed/.test(m.subject), {
      timeoutMs: 15_000,
    });

    // The trace is the one whose root is orders' PlaceOrder server span.
    const placeOrder = () =>
      receiver
        .spans()
        .find((s) => s.service === 'orders' && s.kind === SERVER && s.name.endsWith('/PlaceOrder'));
    await waitUntil(() => placeOrder() !== undefined, { timeoutMs: 10_000, message: 'no PlaceOrder span' });
    const traceId = placeOrder()!.traceId;
    const inTrace = () => receiver.spans().filter((s) => s.traceId === traceId);
    const find = (predicate: (s: ReceivedSpan) => boolean) => inTrace().find(predicate);
    const smtpSend = () => find((s) => s.service === 'notifications' && s.name === 'smtp send');
    await waitUntil(() => smtpSend() !== undefined, {
      timeoutMs: 10_000,
      message: 'the SMTP send span never joined the PlaceOrder trace',
    });
    // Let the last batches arrive (the projection may finish after the mail).
    await waitUntil(
      () =>
        find(
          (s) =>
            s.kind === CONSUMER && s.attributes['messaging.consumer.group.name'] === 'orders-projections',
        ) !== undefined,
      { timeoutMs: 10_000, message: 'no projection process span in the trace' },
    );

    const spans = inTrace();
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const ancestors = (span: ReceivedSpan) => {
      const chain: ReceivedSpan[] = [];
      for (let p = span.parentSpanId, i = 0; p && i < 50; i++) {
        const parent = byId.get(p);
        if (!parent) break;
        chain.push(parent);
        p = parent.parentSpanId;
      }
      return chain;
    };
    t.diagnostic(
      `${spans.length} spans in trace ${traceId}: ${[...new Set(spans.map((s) => `${s.service}:${s.name}`))].join(', ')}`,
    );

    const root = placeOrder()!;
    assert.equal(root.parentSpanId, undefined, 'PlaceOrder starts the trace');
    assert.equal(root.attributes['rpc.system'], 'grpc');
    assert.equal(root.attributes['rpc.grpc.status_code'], 0);

    // Postgres spans under the command, no parameter values in them.
    const dbSpans = spans.filter(
      (s) => s.service === 'orders' && s.attributes['db.system.name'] === 'postgresql',
    );
    assert.ok(dbSpans.length > 0, 'orders has Postgres query spans');
    assert.ok(dbSpans.every((s) => ancestors(s).includes(root)));
    assert.ok(
      find((s) => s.name === 'event_store append' && ancestors(s).includes(root)),
      'event store append',
    );

    // The relay's publish continues the command's trace, under the command.
    const publish = find(
      (s) => s.service === 'orders' && s.kind === PRODUCER && s.name === 'publish order.created',
    );
    assert.ok(publish, 'relay publish span for order.created');
    assert.equal(publish.attributes['messaging.system'], 'nats');
    assert.equal(publish.attributes['messaging.destination.name'], 'order.created');
    assert.ok(ancestors(publish).includes(root), 'publish descends from PlaceOrder');

    // Each consumer's process span is a child of that publish.
    const processes = spans.filter((s) => s.kind === CONSUMER && s.name === 'process order.created');
    const groups = new Set(processes.map((s) => s.attributes['messaging.consumer.group.name']));
    assert.ok(groups.has('orders-projections'), `orders' projection consumed it (groups: ${[...groups]})`);
    assert.ok(
      processes.some((s) => s.service === 'notifications'),
      'notifications consumed it',
    );
    for (const p of processes) assert.equal(p.parentSpanId, publish.spanId, `${p.service} process parent`);

    // Delivery: the SMTP send happens inside notifications' process span.
    const send = smtpSend()!;
    assert.equal(send.kind, CLIENT);
    const notificationsProcess = processes.find((s) => s.service === 'notifications')!;
    assert.ok(ancestors(send).includes(notificationsProcess), 'smtp send descends from the process span');

    // users answers notifications' call for the addressee inside the same trace.
    const usersServer = find((s) => s.service === 'users' && s.kind === SERVER);
    if (usersServer) {
      assert.ok(ancestors(usersServer).some((s) => s.service === 'notifications' || s.service === 'orders'));
    } else {
      t.diagnostic('users took no part in this trace (no synchronous call to users on this path)');
    }
    assert.ok(orderId);
  });
});
