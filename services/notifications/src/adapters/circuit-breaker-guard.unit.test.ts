import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, createMetricsRegistry } from '@conveyor/platform';
import { SendFailed } from '../app/send-guard.ts';
import { CircuitBreakerGuard } from './circuit-breaker-guard.ts';

function guard() {
  const registry = createMetricsRegistry('test');
  const logger = createLogger({ service: 'test', level: 'silent' });
  const g = new CircuitBreakerGuard({ threshold: 2, halfOpenAfterMs: 100, logger, registry });
  const state = async (breaker: string) =>
    (await registry.getSingleMetric('conveyor_circuit_breaker_state')?.get())?.values.find(
      (v) => v.labels.downstream === breaker,
    )?.value;
  return { g, state, registry };
}

const failing = () => Promise.reject(new SendFailed('smtp: 421', false));

describe('CircuitBreakerGuard', () => {
  it('opens after consecutive transient failures, then holds sends back without trying them', async () => {
    const { g, state } = guard();
    assert.equal((await g.run('smtp', failing)).kind, 'failed');
    assert.equal(await state('smtp'), 0);
    assert.deepEqual(await g.run('smtp', failing), {
      kind: 'failed',
      error: 'smtp: 421',
      permanent: false,
      probe: false,
    });
    assert.equal(await state('smtp'), 2, 'open');
    let tried = false;
    const held = await g.run('smtp', async () => {
      tried = true;
    });
    assert.equal(held.kind, 'held');
    assert.equal(tried, false);
    assert.ok(held.kind === 'held' && held.retryInMs > 0 && held.retryInMs <= 100);
    assert.match(held.kind === 'held' ? held.reason : '', /circuit smtp open/);
  });

  it('lets one trial through after the wait: its failure is a probe, its success closes the breaker', async (t) => {
    // The breaker's wait is read from the clock: a mocked Date lets it pass at once and exactly.
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const { g, state } = guard();
    await g.run('smtp', failing);
    await g.run('smtp', failing);
    t.mock.timers.tick(120);
    assert.deepEqual(await g.run('smtp', failing), {
      kind: 'failed',
      error: 'smtp: 421',
      permanent: false,
      probe: true,
    });
    assert.equal((await g.run('smtp', async () => {})).kind, 'held');
    t.mock.timers.tick(120);
    assert.deepEqual(await g.run('smtp', async () => {}), { kind: 'sent' });
    assert.equal(await state('smtp'), 0);
  });

  it('keeps one breaker per key and ignores permanent refusals', async () => {
    const { g, registry } = guard();
    const permanent = () => Promise.reject(new SendFailed('webhook: answered 410', true));
    for (let i = 0; i < 5; i++) {
      assert.equal((await g.run('webhook:a.example', permanent)).kind, 'failed');
    }
    await g.run('webhook:b.example', failing);
    await g.run('webhook:b.example', failing);
    assert.equal((await g.run('webhook:a.example', async () => {})).kind, 'sent');
    assert.equal((await g.run('webhook:b.example', async () => {})).kind, 'held');
    const opened = (await registry.getSingleMetric('conveyor_circuit_breaker_transitions_total')?.get())
      ?.values;
    assert.deepEqual(
      opened?.map((v) => [v.labels.downstream, v.labels.state, v.value]),
      [['webhook:b.example', 'open', 1]],
    );
  });
});
