import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatChaosReport } from './chaos-report.ts';
import {
  CI_GROUP_SIZE,
  chaosFailures,
  type ExperimentResult,
  rotation,
  selectExperiments,
  smokeExperiments,
} from './chaos-run.ts';
import { experiments } from './experiments.ts';

const ok: ExperimentResult = {
  name: 'kill-orders',
  fault: 'SIGKILL orders',
  accepted: 10,
  paid: 10,
  commands: { pay: 10, ship: 3 },
  lost: 0,
  duplicated: 0,
  resentSameMessageId: 1,
  eventsWithoutNotification: 0,
  convergeMs: 1500,
  converged: true,
  unplannedExits: [],
  leftBehind: [],
  gaveUp: 0,
  problems: [],
  details: [],
  durationMs: 9000,
};

describe('chaos verdict and report', () => {
  it('passes a clean run and fails on anything lost, duplicated, unconverged or left behind', () => {
    assert.deepEqual(chaosFailures([ok], []), []);
    assert.deepEqual(chaosFailures([{ ...ok, lost: 2 }], []), ['kill-orders: 2 lost']);
    assert.deepEqual(chaosFailures([{ ...ok, duplicated: 1 }], []), ['kill-orders: 1 duplicated']);
    assert.deepEqual(chaosFailures([{ ...ok, converged: false }], []), ['kill-orders: did not converge']);
    assert.deepEqual(chaosFailures([{ ...ok, accepted: 0 }], []), ['kill-orders: no order was accepted']);
    assert.deepEqual(chaosFailures([ok], [42]), ['processes left behind at the end: 42']);
  });

  it('renders the table row and the verdict', () => {
    const text = formatChaosReport({
      startedAt: '2026-11-24T09:00:00.000Z',
      revision: 'revision abc',
      convergeTimeoutMs: 60_000,
      durationMs: 60_000,
      command: './bin/conveyor chaos',
      results: [ok],
      leftBehind: [],
      failures: [],
    });
    assert.match(
      text,
      /\| kill-orders \| SIGKILL orders \| 10 \| 10 \/ 3 \/ 0 \/ 0 \| 0 \| 0 \| 1 \| 1\.5 s \| - \|/,
    );
    assert.match(text, /Result: passed/);
  });

  it('selects the smoke set, a chosen list, or names the unknown experiment', () => {
    assert.deepEqual(
      selectExperiments({ smoke: true })
        .map((e) => e.name)
        .sort(),
      [...smokeExperiments].sort(),
    );
    assert.deepEqual(
      selectExperiments({ only: ['restart-nats'] }).map((e) => e.name),
      ['restart-nats'],
    );
    assert.throws(() => selectExperiments({ only: ['nope'] }), /unknown experiment nope/);
    assert.ok(selectExperiments({}).length >= 14);
  });

  it('rotates CI through every experiment: the smoke two each time, every other one in some group', () => {
    const first = rotation('00000000aa', CI_GROUP_SIZE);
    const seen = new Set<string>();
    for (let group = 0; group < first.groups; group++) {
      const r = rotation(group.toString(16).padStart(8, '0'), CI_GROUP_SIZE);
      assert.equal(r.group, group);
      for (const name of smokeExperiments) assert.ok(r.names.includes(name));
      assert.ok(r.names.length <= smokeExperiments.length + CI_GROUP_SIZE);
      for (const name of r.names) seen.add(name);
      assert.deepEqual(selectExperiments({ only: r.names }).length, r.names.length);
    }
    assert.deepEqual(
      [...seen].sort(),
      experiments
        .filter((e) => !e.knownDefect)
        .map((e) => e.name)
        .sort(),
    );
    assert.deepEqual(rotation('deadbeef', CI_GROUP_SIZE), rotation('deadbeef', CI_GROUP_SIZE));
  });
});
