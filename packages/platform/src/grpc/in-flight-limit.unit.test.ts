import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { usersV1 } from '@conveyor/contracts';
import { Metadata, status } from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { InFlightLimit } from './in-flight-limit.ts';

type Callback = (error: unknown, response?: unknown) => void;

/** Handlers that answer only when the test says so, and the calls to drive them. */
function harness(limit: InFlightLimit) {
  const pending: Callback[] = [];
  const hold = (_call: unknown, callback?: Callback) => {
    if (callback) pending.push(callback);
  };
  const wrapped = limit.wrap(usersV1.UserServiceService, {
    authenticate: hold,
    createUser: hold,
    verifyToken: hold,
  });
  const call = (method: 'authenticate' | 'createUser' | 'verifyToken') =>
    new Promise<{ code?: number; details?: string }>((resolve) => {
      wrapped[method]!({ metadata: new Metadata() }, (error: unknown) => resolve((error ?? {}) as object));
    });
  return { pending, call };
}

describe('InFlightLimit with admission pools', () => {
  it('refuses a pooled method beyond its pool while the shared allowance still admits', async () => {
    const registry = new Registry();
    const limit = new InFlightLimit(2, registry, [
      { name: 'password', limit: 1, methods: ['Authenticate', 'CreateUser'] },
    ]);
    const { pending, call } = harness(limit);

    const first = call('authenticate');
    const refused = await call('createUser');
    assert.equal(refused.code, status.UNAVAILABLE);
    assert.equal(refused.details, 'overloaded: 1 password calls in flight; retry with backoff');

    const verifications = [call('verifyToken'), call('verifyToken')];
    assert.equal(limit.inFlight, 2, 'the pooled call takes nothing from the shared allowance');
    const sharedRefused = await call('verifyToken');
    assert.equal(sharedRefused.details, 'overloaded: 2 calls in flight; retry with backoff');

    const gauge = await registry.getSingleMetricAsString('rpc_server_in_flight');
    assert.match(gauge, /rpc_server_in_flight\{pool="shared"\} 2/);
    assert.match(gauge, /rpc_server_in_flight\{pool="password"\} 1/);
    const limits = await registry.getSingleMetricAsString('rpc_server_in_flight_limit');
    assert.match(limits, /\{pool="password"\} 1/);

    for (const answer of pending.splice(0)) answer(null, {});
    await Promise.all([first, ...verifications]);
    assert.equal(limit.inFlight, 0);
    const again = call('authenticate');
    assert.equal(pending.length, 1, 'the pool is free again: the call reached its handler');
    pending.pop()?.(null, {});
    assert.deepEqual(await again, {});
  });

  it('refuses a pool without a positive limit', () => {
    assert.throws(
      () => new InFlightLimit(4, undefined, [{ name: 'password', limit: 0, methods: ['Authenticate'] }]),
      /in-flight limit of password must be ≥ 1, got 0/,
    );
  });
});
