import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { streamConfigs } from './topology.ts';

describe('streamConfigs', () => {
  it('caps every stream at its size: 1 GiB users and dead letters, 4 GiB orders (never 0, which is unlimited)', () => {
    const bytes = Object.fromEntries(streamConfigs().map((s) => [s.name, s.max_bytes]));
    assert.deepEqual(bytes, { USERS: 2 ** 30, ORDERS: 4 * 2 ** 30, DEADLETTERS: 2 ** 30 });
    for (const { name, max_bytes } of streamConfigs({ maxBytes: 1 << 20 }))
      assert.equal(max_bytes, 1 << 20, name);
  });
});
