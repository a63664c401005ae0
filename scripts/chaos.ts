/**
 * Chaos experiments under steady order load (test/chaos):
 *   node scripts/chaos.ts                     every experiment; writes docs/chaos.md
 *   node scripts/chaos.ts --smoke             two short experiments; writes test-results/chaos/report.md
 *   node scripts/chaos.ts --only a,b          chosen experiments; writes test-results/chaos/report.md
 * Starts its own Postgres, nats-server and services; the exit code says whether it passed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatChaosReport } from '../test/chaos/chaos-report.ts';
import { chaosFailures, runChaos, selectExperiments } from '../test/chaos/chaos-run.ts';

const root = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    only: { type: 'string' },
    workers: { type: 'string', default: '4' },
  },
});
const only = values.only?.split(',').filter(Boolean);
const workers = Number(values.workers);
try {
  selectExperiments({ only, smoke: values.smoke });
  if (!(workers >= 1 && workers <= 32)) throw new Error('--workers takes 1..32');
} catch (error) {
  console.error(
    `chaos: ${(error as Error).message}\nusage: node scripts/chaos.ts [--smoke] [--only a,b] [--workers N]`,
  );
  process.exit(2);
}
const hardLimitMs = 15 * 60_000;
const watchdog = setTimeout(() => {
  console.error(`chaos: still running after ${hardLimitMs / 60_000} min; giving up`);
  process.exit(1);
}, hardLimitMs);
watchdog.unref();

const CONVERGE_TIMEOUT_MS = 60_000;
const began = Date.now();
const { results, leftBehind } = await runChaos({
  only,
  smoke: values.smoke,
  warmMs: values.smoke ? 1500 : 3000,
  workers,
  convergeTimeoutMs: CONVERGE_TIMEOUT_MS,
  log: (line) => console.log(`chaos: ${line}`),
});
const failures = chaosFailures(results, leftBehind);
const revision = describeRevision();
const full = !values.smoke && !only;
const report = formatChaosReport({
  startedAt: new Date(began).toISOString(),
  durationMs: Date.now() - began,
  revision,
  convergeTimeoutMs: CONVERGE_TIMEOUT_MS,
  command: `./bin/conveyor chaos${values.smoke ? ' --smoke' : ''}${only ? ` --only ${only.join(',')}` : ''}`,
  results,
  leftBehind,
  failures,
});
const file = full ? join(root, 'docs/chaos.md') : join(root, 'test-results/chaos/report.md');
mkdirSync(join(file, '..'), { recursive: true });
writeFileSync(file, report);
console.log(`\n${report}\nreport written to ${file}`);
process.exit(failures.length ? 1 : 0);

/** What was tested: `git describe`, or CHAOS_REVISION for a run outside a git checkout (e.g. a copy of a release). */
function describeRevision(): string {
  if (process.env.CHAOS_REVISION) return process.env.CHAOS_REVISION;
  try {
    return `revision ${execFileSync('git', ['describe', '--always', '--dirty'], { cwd: root, encoding: 'utf8' }).trim()}`;
  } catch {
    return 'a copy without git metadata';
  }
}
