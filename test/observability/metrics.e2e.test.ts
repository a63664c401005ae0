import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ordersV1 } from '@conveyor/contracts';
import { callUnary, insecure } from '@conveyor/platform';
import { type System, startSystem, waitUntil } from '@conveyor/stack';
import { type Sample, scrape, signUp, sumOf } from '@conveyor/stack/testing';

const N = 12;

describe('metrics endpoints report a known workload exactly (processes)', () => {
  let system: System;

  before(async () => {
    system = await startSystem({ name: 'e2e_metrics', services: ['users', 'orders', 'notifications'] });
  });

  after(async () => {
    await system?.stop();
  });

  it(`counts ${N} PlaceOrder calls, their events published and consumed, and drains the outbox`, async (t) => {
    const customer = await signUp(system.address('users'));
    const client = new ordersV1.OrderServiceClient(system.address('orders'), insecure());
    try {
      for (let i = 0; i < N; i++) {
        await callUnary(
          client,
          client.placeOrder,
          { userId: '', items: [{ sku: 'MUG-001', quantity: 1 }], idempotencyKey: randomUUID() },
          { deadlineMs: 10_000, metadata: customer.metadata() },
        );
      }
      // One rejected call, so the error series exists with its status code.
      await assert.rejects(
        callUnary(
          client,
          client.placeOrder,
          { userId: '', items: [], idempotencyKey: randomUUID() },
          { deadlineMs: 10_000, metadata: customer.metadata() },
        ),
        { code: 3 },
      );
    } finally {
      client.close();
    }
    await system.smtp.waitFor((m) => m.to.includes(customer.email) && /confirmed/.test(m.subject), {
      count: N,
      timeoutMs: 20_000,
    });

    let orders: Sample[] = [];
    let notifications: Sample[] = [];
    const consumedBy = (samples: Sample[], group: string) =>
      sumOf(samples, 'messaging_client_consumed_messages_total', {
        messaging_destination_name: 'order.created',
        messaging_consumer_group_name: group,
        outcome: 'ack',
      });
    await waitUntil(
      async () => {
        [orders, notifications] = await Promise.all([
          scrape(system.service('orders').opsPort),
          scrape(system.service('notifications').opsPort),
        ]);
        return (
          consumedBy(orders, 'orders-projections') === N &&
          consumedBy(notifications, 'notifications') === N &&
          sumOf(orders, 'conveyor_outbox_backlog') === 0 &&
          sumOf(orders, 'conveyor_consumer_pending_messages', { consumer: 'orders-projections' }) === 0 &&
          // Gauges read from JetStream at scrape time are absent when that read timed out (a loaded
          // machine); a later scrape has them.
          notifications.some((s) => s.name === 'conveyor_dead_letters_messages') &&
          notifications.some((s) => s.name === 'conveyor_consumer_pending_messages')
        );
      },
      { timeoutMs: 15_000, intervalMs: 250, message: 'consumers did not report every order.created' },
    );
    const users = await scrape(system.service('users').opsPort);

    const placeOrder = { rpc_service: 'conveyor.orders.v1.OrderService', rpc_method: 'PlaceOrder' };
    assert.equal(sumOf(orders, 'rpc_server_requests_total', { ...placeOrder, rpc_grpc_status_code: '0' }), N);
    assert.equal(
      sumOf(orders, 'rpc_server_duration_seconds_count', { ...placeOrder, rpc_grpc_status_code: '0' }),
      N,
    );
    assert.equal(sumOf(orders, 'rpc_server_requests_total', { ...placeOrder, rpc_grpc_status_code: '3' }), 1);
    assert.equal(
      sumOf(orders, 'rpc_server_duration_seconds_bucket', {
        ...placeOrder,
        rpc_grpc_status_code: '0',
        le: '+Inf',
      }),
      N,
    );
    assert.equal(
      sumOf(orders, 'messaging_client_sent_messages_total', { messaging_destination_name: 'order.created' }),
      N,
    );
    assert.equal(sumOf(orders, 'conveyor_outbox_published_total', { subject: 'order.created' }), N);
    assert.equal(sumOf(orders, 'conveyor_outbox_commit_to_puback_seconds_count'), N);
    // The first admin (startSystem makes it as an operator would) and the customer.
    assert.equal(
      sumOf(users, 'messaging_client_sent_messages_total', { messaging_destination_name: 'user.created' }),
      2,
    );
    assert.equal(
      sumOf(notifications, 'messaging_process_duration_seconds_count', {
        messaging_destination_name: 'order.created',
        messaging_consumer_group_name: 'notifications',
      }),
      N,
    );
    assert.equal(
      sumOf(notifications, 'conveyor_consumer_pending_messages', { consumer: 'notifications' }),
      0,
    );
    assert.ok(
      notifications.some((s) => s.name === 'conveyor_dead_letters_messages'),
      'dead-letter depth is exported',
    );
    assert.ok(
      orders.some((s) => s.name === 'process_cpu_seconds_total'),
      'process metrics',
    );
    assert.ok(
      [...orders, ...notifications].some((s) => s.name === 'conveyor_circuit_breaker_state'),
      'circuit-breaker state is exported',
    );
    // orders verifies tokens with users: those calls are client metrics.
    assert.ok(
      sumOf(orders, 'rpc_client_requests_total', { rpc_service: 'conveyor.users.v1.UserService' }) > 0,
    );
    t.diagnostic(
      `PlaceOrder p50 bucket counts: ${orders
        .filter(
          (s) =>
            s.name === 'rpc_server_duration_seconds_bucket' &&
            s.labels.rpc_method === 'PlaceOrder' &&
            s.labels.rpc_grpc_status_code === '0',
        )
        .map((s) => `${s.labels.le}:${s.value}`)
        .join(' ')}`,
    );
  });
});
