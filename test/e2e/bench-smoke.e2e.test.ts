import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { repoRoot } from '@conveyor/stack';

/**
 * The benchmark's harness, run briefly: every suite completes, the raw pipeline runs, both rate
 * searches end with a sustained rate, and the loss and duplicate checks pass (not speed).
 */
describe('benchmark smoke run', () => {
  it('runs every suite and writes JSON, markdown and SVG with passing checks', () => {
    const run = spawnSync(process.execPath, ['bench/run.ts', '--smoke'], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 240_000,
      // The bench starts its own Postgres with pg_stat_statements, as a full run does.
      env: process.env,
    });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    const report = JSON.parse(readFileSync(`${repoRoot}bench/results/smoke.json`, 'utf8')) as {
      rows: { group: string }[];
      checks: { name: string; ok: boolean }[];
      ratios: { name: string }[];
    };
    for (const group of [
      'event store append',
      'nats baseline',
      'outbox relay',
      'projection rebuild',
      'grpc overhead',
      'completed orders · raw pipeline',
      'completed orders · conveyor',
      'CPU per completed order · raw pipeline',
      'CPU per completed order · conveyor',
      'Postgres per completed order · conveyor',
    ]) {
      assert.ok(
        report.rows.some((r) => r.group === group),
        `no ${group} rows`,
      );
    }
    // Conveyor is read against the raw ceiling of the same run.
    for (const ratio of [
      'sustained completed orders/s',
      'system CPU per completed order',
      'statements per completed order',
    ])
      assert.ok(
        report.ratios.some((r) => r.name.includes(ratio)),
        `no ratio "${ratio}"`,
      );
    assert.deepEqual(
      report.checks.filter((c) => !c.ok),
      [],
    );
    assert.match(readFileSync(`${repoRoot}bench/results/smoke.svg`, 'utf8'), /^<svg/);
  });
});
