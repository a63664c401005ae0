import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Readiness } from './readiness.ts';

describe('Readiness', () => {
  it('is not ready before start-up finished, even with every check passing', async () => {
    const readiness = new Readiness().add('db', async () => true);
    assert.deepEqual(await readiness.report(), {
      ready: false,
      checks: { db: 'ok', startup: 'in progress' },
    });
    readiness.watch(60_000);
    assert.deepEqual(await readiness.report(), { ready: true, checks: { db: 'ok' } });
    readiness.stopWatching();
  });

  it('is not ready while a check fails, throws or hangs', async () => {
    const readiness = new Readiness(50)
      .add('fails', async () => false)
      .add('throws', async () => {
        throw new Error('down');
      })
      .add('hangs', () => new Promise<boolean>(() => {}));
    readiness.watch(60_000);
    const report = await readiness.report();
    readiness.stopWatching();
    assert.deepEqual(report, {
      ready: false,
      checks: { fails: 'failing', throws: 'failing', hangs: 'failing' },
    });
  });

  it('tells a late listener the current state at once, then every change; shutdown is final', async () => {
    let up = true;
    const readiness = new Readiness().add('db', async () => up);
    readiness.watch(60_000);
    await readiness.report();
    const seen: boolean[] = [];
    readiness.onChange((ready) => seen.push(ready));
    up = false;
    await readiness.report();
    up = true;
    await readiness.report();
    readiness.beginShutdown();
    await readiness.report();
    assert.deepEqual(seen, [true, false, true, false]);
    assert.equal((await readiness.report()).ready, false);
  });
});
