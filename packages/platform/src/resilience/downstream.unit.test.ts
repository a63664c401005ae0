import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { status } from '@grpc/grpc-js';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { AppError } from '../errors.ts';
import { Downstream } from './downstream.ts';
import { backoffDelay, resilienceOptions } from './resilience-options.ts';

const unavailable = () =>
  Object.assign(new Error('14 UNAVAILABLE: connect ECONNREFUSED'), { code: status.UNAVAILABLE });
const notFound = () => Object.assign(new Error('5 NOT_FOUND: no such user'), { code: status.NOT_FOUND });
const silent = pino({ level: 'silent' });

/** Drives mocked timers until the promise settles; bounded so a hang fails the test. */
async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  let outcome: { value?: T; error?: unknown } | undefined;
  promise.then(
    (value) => {
      outcome = { value };
    },
    (error: unknown) => {
      outcome = { error };
    },
  );
  for (let i = 0; i < 100 && !outcome; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    if (!outcome) mock.timers.runAll();
  }
  assert.ok(outcome, 'call never settled');
  return outcome;
}

function downstream(options: Partial<ConstructorParameters<typeof Downstream>[1]> = {}, random = () => 0.5) {
  const registry = new Registry();
  const d = new Downstream(
    'users',
    { deadlineMs: 1000, consecutiveFailures: 3, halfOpenAfterMs: 5000, maxAttempts: 1, ...options },
    { logger: silent, registry, random },
  );
  const gaugeOf = async () => {
    const metric = await registry.getSingleMetric('conveyor_circuit_breaker_state')?.get();
    return metric?.values.find((v) => v.labels.downstream === 'users')?.value;
  };
  return { d, gaugeOf };
}

describe('Downstream circuit breaker', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  it('opens after the configured consecutive transient failures and then fails fast naming the downstream', async () => {
    const { d, gaugeOf } = downstream();
    let calls = 0;
    const failing = async () => {
      calls++;
      throw unavailable();
    };
    for (let i = 0; i < 2; i++) await settle(d.call(failing, { idempotent: false }));
    assert.equal(d.state, 'closed');
    assert.equal(await gaugeOf(), 0);
    await settle(d.call(failing, { idempotent: false }));
    assert.equal(d.state, 'open');
    assert.equal(await gaugeOf(), 2);
    const { error } = await settle(d.call(failing, { idempotent: false }));
    assert.equal(calls, 3, 'an open breaker must not call the downstream');
    assert.ok(error instanceof AppError);
    assert.equal(error.code, 'UNAVAILABLE');
    assert.match(error.message, /^users service circuit open; retry after 5 s$/);
  });

  it('does not count answers such as NOT_FOUND as failures', async () => {
    const { d } = downstream();
    for (let i = 0; i < 5; i++) {
      const { error } = await settle(
        d.call(
          async () => {
            throw notFound();
          },
          { idempotent: true },
        ),
      );
      assert.equal((error as { code: number }).code, status.NOT_FOUND, 'passed through untouched');
    }
    assert.equal(d.state, 'closed');
  });

  it('counts timeouts as failures and reports the deadline', async () => {
    const { d } = downstream({ consecutiveFailures: 1 });
    const { error } = await settle(d.call(() => new Promise<never>(() => {}), { idempotent: false }));
    assert.equal((error as AppError).code, 'UNAVAILABLE');
    assert.match((error as Error).message, /users service did not answer within 1000 ms/);
    assert.equal(d.state, 'open');
  });

  it('half-opens after its delay, closes on a successful probe', async () => {
    const { d, gaugeOf } = downstream();
    for (let i = 0; i < 3; i++)
      await settle(d.call(async () => Promise.reject(unavailable()), { idempotent: false }));
    mock.timers.tick(4999);
    const early = await settle(d.call(async () => 'ok', { idempotent: false }));
    assert.match((early.error as Error).message, /circuit open; retry after 1 s/);
    mock.timers.tick(1);
    let probeStateDuringCall: string | undefined;
    const probe = await settle(
      d.call(
        async () => {
          probeStateDuringCall = d.state;
          assert.equal(await gaugeOf(), 1);
          return 'ok';
        },
        { idempotent: false },
      ),
    );
    assert.equal(probe.value, 'ok');
    assert.equal(probeStateDuringCall, 'half-open');
    assert.equal(d.state, 'closed');
    assert.equal(await gaugeOf(), 0);
  });

  it('re-opens when the half-open probe fails', async () => {
    const { d, gaugeOf } = downstream();
    for (let i = 0; i < 3; i++)
      await settle(d.call(async () => Promise.reject(unavailable()), { idempotent: false }));
    mock.timers.tick(5000);
    await settle(d.call(async () => Promise.reject(unavailable()), { idempotent: false }));
    assert.equal(d.state, 'open');
    assert.equal(await gaugeOf(), 2);
    const { error } = await settle(d.call(async () => 'ok', { idempotent: false }));
    assert.match((error as Error).message, /circuit open; retry after 5 s/);
  });
});

describe('Downstream retry', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  it('retries idempotent calls on UNAVAILABLE with full-jitter exponential delays', async () => {
    const random = mock.fn(() => 0.5);
    const { d } = downstream(
      { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 300, consecutiveFailures: 10 },
      random,
    );
    const at: number[] = [];
    const { value } = await settle(
      d.call(
        async () => {
          at.push(Date.now());
          if (at.length < 4) throw unavailable();
          return 'finally';
        },
        { idempotent: true },
      ),
    );
    assert.equal(value, 'finally');
    const delays = at.slice(1).map((t, i) => t - (at[i] as number));
    // ceilings 100, 200, min(300, 400) = 300; random 0.5 halves each
    assert.deepEqual(delays, [50, 100, 150]);
    assert.equal(random.mock.callCount(), 3);
  });

  it('retries DEADLINE_EXCEEDED and gives up after maxAttempts with UNAVAILABLE', async () => {
    const { d } = downstream({ maxAttempts: 3, consecutiveFailures: 10 });
    let calls = 0;
    const { error } = await settle(
      d.call(
        async () => {
          calls++;
          throw Object.assign(new Error('4 DEADLINE_EXCEEDED'), { code: status.DEADLINE_EXCEEDED });
        },
        { idempotent: true },
      ),
    );
    assert.equal(calls, 3);
    assert.equal((error as AppError).code, 'UNAVAILABLE');
    assert.match((error as Error).message, /^users service unavailable: 4 DEADLINE_EXCEEDED/);
  });

  it('never retries a non-idempotent call', async () => {
    const { d } = downstream({ maxAttempts: 5, consecutiveFailures: 10 });
    let calls = 0;
    await settle(
      d.call(
        async () => {
          calls++;
          throw unavailable();
        },
        { idempotent: false },
      ),
    );
    assert.equal(calls, 1);
  });

  it('does not retry answers that are not transient', async () => {
    const { d } = downstream({ maxAttempts: 5 });
    let calls = 0;
    await settle(
      d.call(
        async () => {
          calls++;
          throw notFound();
        },
        { idempotent: true },
      ),
    );
    assert.equal(calls, 1);
  });

  it('stops retrying as soon as the breaker opens', async () => {
    const { d } = downstream({ maxAttempts: 5, consecutiveFailures: 2 });
    let calls = 0;
    const { error } = await settle(
      d.call(
        async () => {
          calls++;
          throw unavailable();
        },
        { idempotent: true },
      ),
    );
    assert.equal(calls, 2);
    assert.match((error as Error).message, /circuit open/);
  });
});

describe('resilience options', () => {
  it('fills defaults and rejects invalid values naming the option', () => {
    assert.equal(resilienceOptions().maxAttempts, 3);
    assert.throws(() => resilienceOptions({ maxAttempts: 0 }), /maxAttempts/);
    assert.throws(() => resilienceOptions({ baseDelayMs: 500, maxDelayMs: 100 }), /maxDelayMs/);
  });

  it('caps the backoff ceiling at maxDelayMs', () => {
    const o = resilienceOptions({ baseDelayMs: 100, maxDelayMs: 1000 });
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((n) => backoffDelay(o, n, () => 0.999)),
      [99, 199, 399, 799, 999, 999],
    );
    assert.equal(
      backoffDelay(o, 3, () => 0),
      0,
    );
  });
});
