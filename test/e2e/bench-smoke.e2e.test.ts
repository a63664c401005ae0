import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { repoRoot } from '../support/service-processes.ts';

/** The benchmark's harness, run briefly: every suite completes and its correctness checks pass (not speed). */
describe('benchmark smoke run', () => {
  it('runs every suite and writes JSON, markdown and SVG with passing checks', () => {
    const run = spawnSync(process.execPath, ['bench/run.ts', '--smoke'], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 240_000,
      env: {
        ...process.env,
        ...(process.env.CONVEYOR_TEST_DATABASE_URL
          ? { CONVEYOR_BENCH_DATABASE_URL: process.env.CONVEYOR_TEST_DATABASE_URL }
          : {}),
      },
    });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    const report = JSON.parse(readFileSync(`${repoRoot}bench/results/smoke.json`, 'utf8')) as {
      rows: { group: string }[];
      checks: { name: string; ok: boolean }[];
      ratios: unknown[];
    };
    for (const group of [
      'event store append',
      'nats baseline',
      'outbox relay',
      'projection rebuild',
      'grpc overhead',
      'end to end',
    ]) {
      assert.ok(
        report.rows.some((r) => r.group === group),
        `no ${group} rows`,
      );
    }
    assert.ok(report.ratios.length > 0);
    assert.deepEqual(
      report.checks.filter((c) => !c.ok),
      [],
    );
    assert.match(readFileSync(`${repoRoot}bench/results/smoke.svg`, 'utf8'), /^<svg/);
  });
});
