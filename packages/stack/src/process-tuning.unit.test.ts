import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serviceRuntime, serviceRuntimeEnv } from './process-tuning.ts';

describe('serviceRuntimeEnv', () => {
  it('gives services the capped heap and the fixed mmap threshold by default', () => {
    assert.deepEqual(serviceRuntimeEnv({}), {
      NODE_OPTIONS: '--max-old-space-size=128 --max-semi-space-size=8',
      GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072',
    });
  });

  it("puts the operator's NODE_OPTIONS after the defaults, so their flags win, and keeps their GLIBC_TUNABLES", () => {
    const env = serviceRuntimeEnv({
      NODE_OPTIONS: '--max-old-space-size=512 --cpu-prof',
      GLIBC_TUNABLES: 'glibc.malloc.arena_max=2',
    });
    assert.equal(env.NODE_OPTIONS, `${serviceRuntime.nodeOptions} --max-old-space-size=512 --cpu-prof`);
    assert.equal(env.GLIBC_TUNABLES, 'glibc.malloc.arena_max=2');
  });
});
