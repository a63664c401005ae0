import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ordersV1 } from '@conveyor/contracts';
import { callUnary, insecure } from '@conveyor/platform';
import { type ServiceUnderTest, type System, startSystem, waitUntil } from '@conveyor/stack';
import { type SignedIn, signInAdmin, signUp } from '@conveyor/stack/testing';
import { Metadata, type ServiceError, status } from '@grpc/grpc-js';

/**
 * Issue 4's "user service killed" check with real processes: while users is
 * down, orders verifies tokens with the cached public keys (ADR 0012) and
 * answers fast because the breaker is open; when users returns, the breaker
 * closes by itself.
 */
describe('users service killed: orders degrades to local keys and recovers (processes)', () => {
  let system: System;
  let users: ServiceUnderTest;
  let orders: ServiceUnderTest;
  let client: ordersV1.OrderServiceClient;
  let customer: SignedIn;
  let admin: SignedIn;

  before(async () => {
    system = await startSystem({
      name: 'e2e_users_outage',
      services: ['users', 'orders'],
      env: {
        all: { DATABASE_POOL_SIZE: '4' },
        users: { USERS_ARGON2_MEMORY_KIB: '8192', USERS_ARGON2_PASSES: '1' },
        orders: {
          USERS_DEADLINE_MS: '1000',
          USERS_BREAKER_FAILURES: '3',
          USERS_BREAKER_HALF_OPEN_MS: '1000',
          // Every command asks users, so the breaker sees each call.
          AUTH_CACHE_TTL_MS: '0',
        },
      },
    });
    users = system.service('users');
    orders = system.service('orders');
    client = new ordersV1.OrderServiceClient(orders.address, insecure());
    const usersAddress = users.address;
    [customer, admin] = await Promise.all([signUp(usersAddress), signInAdmin(usersAddress)]);
  });

  after(async () => {
    client?.close();
    await system?.stop();
  });

  const place = (who: SignedIn) =>
    callUnary(
      client,
      client.placeOrder,
      { userId: '', items: [{ sku: 'MUG-001', quantity: 1 }], idempotencyKey: randomUUID() },
      { deadlineMs: 10_000, metadata: who.metadata() },
    );
  const timed = async <T>(f: () => Promise<T>) => {
    const started = performance.now();
    const value = await f();
    return { value, ms: performance.now() - started };
  };
  const metrics = async () => (await fetch(`${orders.opsUrl}/metrics`)).text();
  const breakerState = async () => {
    const line = (await metrics())
      .split('\n')
      .find((l) => /^conveyor_circuit_breaker_state\{.*downstream="users"/.test(l));
    return line ? Number(line.split(' ').at(-1)) : undefined;
  };
  /** Tokens VerifyToken answered for (not the cache, not the local keys). */
  const remoteVerifications = async () => {
    const line = (await metrics())
      .split('\n')
      .find((l) => /^conveyor_auth_verifications_total\{.*outcome="remote"/.test(l));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };

  it('keeps taking orders fast on local keys while users is down, then closes the breaker when it is back', async () => {
    const before = await place(customer);
    assert.equal(before.order?.userId, customer.userId);
    assert.equal(await breakerState(), 0);

    await users.process.kill(); // SIGKILL: no goodbye, connections just drop

    const during: number[] = [];
    for (let i = 0; i < 6; i++) {
      const { value, ms } = await timed(() => place(customer));
      assert.equal(value.order?.userId, customer.userId, 'verified locally with the cached public keys');
      during.push(ms);
    }
    assert.equal(await breakerState(), 2, 'breaker open on /metrics');
    const openCalls = during.slice(3);
    assert.ok(
      openCalls.every((ms) => ms < 1000),
      `commands with the breaker open must not wait on deadlines: ${during.map((m) => m.toFixed(0)).join(', ')} ms`,
    );

    const { value: paid, ms: payMs } = await timed(() =>
      callUnary(
        client,
        client.payOrder,
        { orderId: before.order?.id as string },
        { deadlineMs: 10_000, metadata: customer.metadata() },
      ),
    );
    assert.equal(paid.order?.status, ordersV1.OrderStatus.ORDER_STATUS_PAID);
    assert.ok(payMs < 1000, `pay took ${payMs} ms`);
    const shipped = await callUnary(
      client,
      client.shipOrder,
      { orderId: before.order?.id as string, carrier: 'DHL', trackingNumber: 'T-1' },
      { deadlineMs: 10_000, metadata: admin.metadata() },
    );
    assert.equal(
      shipped.order?.status,
      ordersV1.OrderStatus.ORDER_STATUS_SHIPPED,
      'admin role from local verification',
    );

    const forged = new Metadata();
    const [h, p, s] = customer.token.split('.') as [string, string, string];
    const claims = { ...JSON.parse(Buffer.from(p, 'base64url').toString()), role: 'admin' };
    forged.set(
      'authorization',
      `Bearer ${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`,
    );
    await assert.rejects(
      callUnary(
        client,
        client.deliverOrder,
        { orderId: before.order?.id as string },
        { deadlineMs: 10_000, metadata: forged },
      ),
      (e: ServiceError) => e.code === status.UNAUTHENTICATED,
      'a tampered token is rejected by local verification too',
    );

    const remoteBeforeRestart = await remoteVerifications();
    users = await system.restart(users);
    const recoveredIn = await timed(() =>
      waitUntil(
        async () => {
          await place(customer);
          return (await breakerState()) === 0;
        },
        { timeoutMs: 15_000, intervalMs: 200, message: 'breaker did not close after users came back' },
      ),
    );
    assert.ok((await remoteVerifications()) > remoteBeforeRestart, 'VerifyToken answers again');
    console.log(
      `users outage: commands during outage ${during.map((m) => m.toFixed(0)).join('/')} ms; breaker closed ${recoveredIn.ms.toFixed(0)} ms after restart`,
    );
  });
});
