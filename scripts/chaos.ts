/**
 * Chaos experiments under steady order load (test/chaos):
 *   node scripts/chaos.ts                     every experiment; writes docs/chaos.md
 *   node scripts/chaos.ts --smoke             two short experiments; writes test-results/chaos/report.md
 *   node scripts/chaos.ts --only a,b          chosen experiments; writes test-results/chaos/report.md
 *   node scripts/chaos.ts --rotate            CI's share for this commit (the smoke two and one group)
 * docs/chaos.md is written only from a clean checkout, naming its commit; a full run on a dirty tree
 * writes test-results/chaos/report.md and says why.
 * Starts its own Postgres, nats-server and services; the exit code says whether it passed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatChaosReport } from '../test/chaos/chaos-report.ts';
import {
  CI_GROUP_SIZE,
  chaosFailures,
  rotation,
  runChaos,
  selectExperiments,
} from '../test/chaos/chaos-run.ts';

const root = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    rotate: { type: 'boolean', default: false },
    only: { type: 'string' },
    workers: { type: 'string', default: '4' },
  },
});
const commit = git(['rev-parse', 'HEAD']) ?? process.env.CHAOS_REVISION ?? '0';
const rotated = values.rotate ? rotation(commit, CI_GROUP_SIZE) : undefined;
const only = rotated?.names ?? values.only?.split(',').filter(Boolean);
if (rotated)
  console.log(`chaos: rotation group ${rotated.group + 1} of ${rotated.groups} for ${commit.slice(0, 12)}`);
const workers = Number(values.workers);
try {
  selectExperiments({ only, smoke: values.smoke });
  if (!(workers >= 1 && workers <= 32)) throw new Error('--workers takes 1..32');
} catch (error) {
  console.error(
    `chaos: ${(error as Error).message}\nusage: node scripts/chaos.ts [--smoke | --rotate | --only a,b] [--workers N]`,
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
  warmMs: values.smoke || values.rotate ? 1500 : 3000,
  short: values.smoke || values.rotate,
  workers,
  convergeTimeoutMs: CONVERGE_TIMEOUT_MS,
  log: (line) => console.log(`chaos: ${line}`),
});
const failures = chaosFailures(results, leftBehind);
const revision = describeRevision();
const dirty = revision.endsWith('-dirty');
const full = !values.smoke && !only;
if (full && dirty) {
  console.log(
    'chaos: the tree has uncommitted changes: docs/chaos.md is left alone (it names a committed revision)',
  );
}
const report = formatChaosReport({
  startedAt: new Date(began).toISOString(),
  durationMs: Date.now() - began,
  revision,
  convergeTimeoutMs: CONVERGE_TIMEOUT_MS,
  command: `./bin/conveyor chaos${values.smoke ? ' --smoke' : ''}${values.rotate ? ' --rotate' : only ? ` --only ${only.join(',')}` : ''}`,
  results,
  leftBehind,
  failures,
});
const file = full && !dirty ? join(root, 'docs/chaos.md') : join(root, 'test-results/chaos/report.md');
mkdirSync(join(file, '..'), { recursive: true });
writeFileSync(file, report);
console.log(`\n${report}\nreport written to ${file}`);
process.exit(failures.length ? 1 : 0);

/** What was tested: `git describe`, or CHAOS_REVISION for a run outside a git checkout (e.g. a copy of a release). */
function describeRevision(): string {
  if (process.env.CHAOS_REVISION) return process.env.CHAOS_REVISION;
  const described = git(['describe', '--always', '--dirty', '--abbrev=12']);
  return described ? `revision ${described}` : 'a copy without git metadata';
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}
