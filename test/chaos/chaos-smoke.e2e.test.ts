import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { CI_GROUP_SIZE, chaosFailures, rotation, runChaos } from './chaos-run.ts';

/** The commit under test picks CI's group of experiments (CHAOS_REVISION outside a git checkout). */
function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return process.env.CHAOS_REVISION ?? '0';
  }
}

// CI's share of the chaos suite: the same code as `./bin/conveyor chaos --rotate` (own Postgres,
// nats-server, services): the relay killed between publish and delete, the consumer killed between
// effect and ack, and one group of the other experiments chosen by the commit.
const share = rotation(commit(), CI_GROUP_SIZE);

describe(`chaos in CI: the smoke two and rotation group ${share.group + 1} of ${share.groups}`, () => {
  it(`loses and doubles nothing, converges, and leaves no process behind (${share.names.join(', ')})`, {
    timeout: 420_000,
  }, async (t) => {
    const { results, leftBehind } = await runChaos({
      only: share.names,
      warmMs: 1500,
      workers: 3,
      convergeTimeoutMs: 45_000,
      short: true,
      log: (line) => t.diagnostic(line),
    });
    assert.deepEqual(results.map((r) => r.name).sort(), [...share.names].sort());
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
