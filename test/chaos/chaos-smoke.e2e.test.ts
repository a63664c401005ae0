import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chaosFailures, runChaos, smokeExperiments } from './chaos-run.ts';

// The CI-sized chaos run: the same code as `./bin/conveyor chaos --smoke` (own Postgres, nats-server, services).
describe('chaos smoke: relay killed between publish and delete, consumer killed between effect and ack', () => {
  it('loses and doubles nothing, converges, and leaves no process behind', {
    timeout: 110_000,
  }, async (t) => {
    const { results, leftBehind } = await runChaos({
      smoke: true,
      warmMs: 1500,
      workers: 3,
      convergeTimeoutMs: 45_000,
      log: (line) => t.diagnostic(line),
    });
    assert.deepEqual(results.map((r) => r.name).sort(), [...smokeExperiments].sort());
    for (const r of results) {
      t.diagnostic(
        `${r.name}: accepted ${r.accepted}, lost ${r.lost}, duplicated ${r.duplicated}, converged in ${r.convergeMs} ms`,
      );
      assert.ok(r.accepted > 0, `${r.name} accepted orders under load`);
      assert.equal(r.lost, 0, `${r.name} lost`);
      assert.equal(r.duplicated, 0, `${r.name} duplicated`);
    }
    assert.deepEqual(leftBehind, []);
    assert.deepEqual(chaosFailures(results, leftBehind), []);
  });
});
