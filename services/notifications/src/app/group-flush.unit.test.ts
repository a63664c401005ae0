import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitUntil } from '@conveyor/stack/wait-until';
import { GroupFlush } from './group-flush.ts';

/** A flush the test completes by hand, recording each group it was given. */
function manualFlush() {
  const groups: number[][] = [];
  const waiting: { resolve: () => void; reject: (e: Error) => void }[] = [];
  let called: (() => void) | undefined;
  const flush = (items: number[]) =>
    new Promise<void>((resolve, reject) => {
      groups.push(items);
      waiting.push({ resolve, reject });
      called?.();
    });
  /** Resolves at the next call of the flush. */
  const nextCall = () => new Promise<void>((resolve) => (called = resolve));
  const settle = async (how: 'ok' | 'fail' = 'ok') => {
    const w = waiting.shift()!;
    if (how === 'ok') w.resolve();
    else w.reject(new Error('database down'));
    await new Promise((r) => setImmediate(r));
  };
  return { groups, flush, settle, nextCall };
}

describe('GroupFlush', () => {
  it('flushes a lone item at once and groups what arrives meanwhile', async () => {
    const m = manualFlush();
    const g = new GroupFlush(m.flush, { maxBatch: 100, onError: () => {} });
    g.push(1);
    assert.deepEqual(m.groups, [[1]], 'not delayed');
    g.push(2);
    g.push(3);
    assert.equal(m.groups.length, 1, 'waits for the flush in flight');
    await m.settle();
    assert.deepEqual(m.groups, [[1], [2, 3]]);
    await m.settle();
    await g.drained();
    assert.equal(g.pending, 0);
  });

  it('splits groups at maxBatch', async () => {
    const m = manualFlush();
    const g = new GroupFlush(m.flush, { maxBatch: 2, onError: () => {} });
    g.push(1);
    for (const i of [2, 3, 4, 5, 6]) g.push(i);
    for (let i = 0; i < 4; i++) await m.settle();
    assert.deepEqual(m.groups, [[1], [2, 3], [4, 5], [6]]);
  });

  it('keeps a failed group and retries it, in order, before newer items', async () => {
    const m = manualFlush();
    const errors: number[] = [];
    const g = new GroupFlush(m.flush, { maxBatch: 10, onError: (_e, n) => errors.push(n), maxRetryMs: 1 });
    g.push(1);
    g.push(2);
    await m.settle('fail');
    assert.deepEqual(errors, [1]);
    // The retry comes after its (1 ms) delay: wait for it.
    await waitUntil(() => m.groups.length >= 2, {
      timeoutMs: 2000,
      intervalMs: 1,
      message: 'the retried group',
    });
    assert.deepEqual(m.groups.at(-1), [1, 2]);
    await m.settle();
    await g.drained();
    assert.deepEqual(m.groups, [[1], [1, 2]]);
  });
});

describe('GroupFlush with a linger', () => {
  it('waits for company before writing a group that starts alone, and not while draining', async () => {
    const m = manualFlush();
    const g = new GroupFlush(m.flush, { maxBatch: 100, onError: () => {}, lingerMs: 20 });
    const flushed = m.nextCall();
    g.push(1);
    g.push(2);
    assert.equal(m.groups.length, 0, 'lingering');
    await flushed;
    assert.deepEqual(m.groups, [[1, 2]]);
    await m.settle();
    g.push(3);
    const drained = g.drained();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(m.groups.at(-1), [3], 'a drain writes at once');
    await m.settle();
    await drained;
  });
});
