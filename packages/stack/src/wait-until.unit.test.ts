import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitUntil } from './wait-until.ts';

describe('waitUntil', () => {
  it('resolves once the condition holds', async () => {
    let calls = 0;
    await waitUntil(() => ++calls >= 3, { timeoutMs: 1000, intervalMs: 1, message: 'never' });
    assert.equal(calls, 3);
  });

  it('rejects with the message and the last error', async () => {
    await assert.rejects(
      waitUntil(
        async () => {
          throw new Error('not yet');
        },
        { timeoutMs: 30, intervalMs: 5, message: 'service did not start' },
      ),
      /^Error: service did not start \(timed out after 30 ms; last error: not yet\)$/,
    );
  });
});
