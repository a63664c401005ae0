import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type LocateDeps, locateNatsServer } from './nats-binary.ts';

function deps(overrides: Partial<LocateDeps> & { results?: boolean[] }): LocateDeps & { calls: string[] } {
  const calls: string[] = [];
  const results = [...(overrides.results ?? [])];
  let installed = false;
  return {
    calls,
    isRoot: overrides.isRoot ?? true,
    find: overrides.find ?? (async () => (installed ? '/usr/sbin/nats-server' : undefined)),
    apt: async (args) => {
      calls.push(args.join(' '));
      const ok = results.shift() ?? false;
      if (ok && args[0] === 'install') installed = true;
      return ok;
    },
  };
}

describe('locateNatsServer', () => {
  it('returns an existing binary without apt-get', async () => {
    const d = deps({ find: async () => '/opt/bin/nats-server' });
    assert.equal(await locateNatsServer(() => {}, d), '/opt/bin/nats-server');
    assert.deepEqual(d.calls, []);
  });

  it('tells non-root users how to install it', async () => {
    await assert.rejects(
      locateNatsServer(() => {}, deps({ isRoot: false })),
      /sudo apt-get install nats-server/,
    );
  });

  it('as root installs, running apt-get update only after a failed install', async () => {
    const d = deps({ results: [false, true, true] });
    assert.equal(await locateNatsServer(() => {}, d), '/usr/sbin/nats-server');
    assert.deepEqual(d.calls, [
      'install -y --no-install-recommends nats-server',
      'update',
      'install -y --no-install-recommends nats-server',
    ]);
  });

  it('as root explains a failed installation', async () => {
    await assert.rejects(
      locateNatsServer(() => {}, deps({ results: [false, false] })),
      /sudo apt-get install/,
    );
  });
});
