import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bulkheadOf, type DeliveryPolicy, decideDelivery } from './delivery-decision.ts';

const policy: DeliveryPolicy = { maxAttempts: 3, backoffMs: [100, 200, 400] };

describe('decideDelivery', () => {
  it('marks a sent notification sent and clears its error', () => {
    assert.deepEqual(decideDelivery(2, { kind: 'sent' }, policy), {
      status: 'sent',
      attempted: true,
      counted: false,
      lastError: null,
      retryInMs: undefined,
    });
  });

  it('holds without an attempt while the breaker is open, however many failures came before', () => {
    const held = { kind: 'held', retryInMs: 10, reason: 'circuit smtp open' } as const;
    for (let failures = 0; failures < 10; failures++) {
      assert.deepEqual(decideDelivery(failures, held, policy), {
        status: 'pending',
        attempted: false,
        counted: false,
        lastError: undefined,
        retryInMs: undefined,
      });
    }
  });

  it('counts transient failures and backs off exponentially until the budget is spent', () => {
    const failed = { kind: 'failed', error: 'smtp: 421', permanent: false, probe: false } as const;
    assert.deepEqual(
      [0, 1, 2].map((n) => {
        const d = decideDelivery(n, failed, policy);
        return [d.status, d.counted, d.retryInMs];
      }),
      [
        ['pending', true, 100],
        ['pending', true, 200],
        ['failed', true, undefined],
      ],
    );
  });

  it('records a failed half-open probe without charging the budget', () => {
    const probe = { kind: 'failed', error: 'smtp: 421', permanent: false, probe: true } as const;
    const d = decideDelivery(2, probe, policy);
    assert.deepEqual([d.status, d.attempted, d.counted, d.lastError], ['pending', true, false, 'smtp: 421']);
  });

  it('gives up at once on a permanent failure', () => {
    const d = decideDelivery(
      0,
      { kind: 'failed', error: '550 no such user', permanent: true, probe: false },
      policy,
    );
    assert.equal(d.status, 'failed');
    assert.equal(d.retryInMs, undefined);
  });

  it('cancels a notification whose target is gone', () => {
    const d = decideDelivery(0, { kind: 'target-gone', reason: 'webhook deleted' }, policy);
    assert.deepEqual([d.status, d.attempted, d.lastError], ['cancelled', false, 'webhook deleted']);
  });

  it('gives up on an expired notification without trying it or charging the budget', () => {
    const d = decideDelivery(1, { kind: 'expired', reason: 'not delivered within 24 h' }, policy);
    assert.deepEqual(
      [d.status, d.attempted, d.counted, d.lastError],
      ['failed', false, false, 'not delivered within 24 h'],
    );
  });
});

describe('bulkheadOf', () => {
  it('gives email one bulkhead and every webhook its own', () => {
    assert.equal(bulkheadOf('email', undefined), 'smtp');
    assert.equal(bulkheadOf('webhook', 'a'), 'webhook:a');
    assert.notEqual(bulkheadOf('webhook', 'a'), bulkheadOf('webhook', 'b'));
  });
});
