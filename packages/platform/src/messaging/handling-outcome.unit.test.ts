import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newEvent, PoisonMessageError } from './cloud-event.ts';
import { eachEvent, GiveUp, outcomeOfError, RetryLater, settleOutcome } from './handling-outcome.ts';

const delivery = (deliveryCount: number) => ({
  subject: 'order.paid',
  stream: 'ORDERS',
  streamSequence: 7,
  deliveryCount,
});
const policy = { maxDeliver: 3, backoffMs: [100, 200] };

describe('handling outcomes', () => {
  it('maps a handler error to what becomes of its message', () => {
    assert.deepEqual(outcomeOfError(new PoisonMessageError('bad')), {
      kind: 'dead-letter',
      reason: 'poison: bad',
    });
    assert.deepEqual(outcomeOfError(new GiveUp('spent', 4)), {
      kind: 'dead-letter',
      reason: 'gave up: spent',
      attempts: 4,
    });
    assert.deepEqual(outcomeOfError(new RetryLater('later', 60_000)), {
      kind: 'retry',
      reason: 'later',
      delayMs: 60_000,
    });
    assert.deepEqual(outcomeOfError(new Error('db down')), { kind: 'retry', reason: 'db down' });
  });

  it('naks with the handler’s delay or the backoff step, and dead-letters a retry on the last delivery', () => {
    const retry = { kind: 'retry', reason: 'db down' } as const;
    assert.deepEqual(settleOutcome(retry, delivery(1), policy), {
      kind: 'nak',
      delayMs: 100,
      reason: 'db down',
    });
    assert.deepEqual(settleOutcome(retry, delivery(2), policy), {
      kind: 'nak',
      delayMs: 200,
      reason: 'db down',
    });
    assert.deepEqual(settleOutcome({ ...retry, delayMs: 5 }, delivery(2), policy), {
      kind: 'nak',
      delayMs: 5,
      reason: 'db down',
    });
    assert.deepEqual(settleOutcome(retry, delivery(3), policy), {
      kind: 'dead-letter',
      reason: 'failed after 3 attempts: db down',
      attempts: undefined,
    });
    assert.deepEqual(settleOutcome({ kind: 'ack' }, delivery(3), policy), { kind: 'ack' });
  });

  it('runs a per-event handler over a batch, each event with its own outcome', async () => {
    const events = ['a', 'b', 'c'].map((s) =>
      newEvent(
        'user.erased',
        { userId: '01a24567-0000-7000-8000-000000000000', erasedAt: new Date().toISOString() },
        { source: s },
      ),
    );
    const handle = eachEvent(async (event) => {
      if (event.source === 'b') throw new PoisonMessageError('b is bad');
    });
    const outcomes = await handle(events.map((event) => ({ event, delivery: delivery(1) })));
    assert.deepEqual(
      outcomes.map((o) => o.kind),
      ['ack', 'dead-letter', 'ack'],
    );
  });
});
