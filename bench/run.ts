/**
 * Conveyor's benchmark: one command, baselines measured in the same run.
 *   npm run bench               full run (a few minutes), results in bench/results/
 *   npm run bench -- --smoke    seconds; checks the harness, not speed (CI runs this)
 *   npm run bench -- --only store-append,nats
 * Postgres: CONVEYOR_BENCH_DATABASE_URL, DATABASE_URL or 127.0.0.1:5432 (else an embedded one).
 * NATS: a private nats-server started here.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensurePostgres, freePort, natsServerBinary } from '@conveyor/stack';
import pg from 'pg';
import type { BenchContext, SuiteResult } from './lib/context.ts';
import { type Report, writeReport } from './lib/report.ts';
import { endToEnd } from './suites/end-to-end.ts';
import { grpcOverhead } from './suites/grpc-overhead.ts';
import { natsBaseline } from './suites/nats-baseline.ts';
import { projectionRebuild } from './suites/projection-rebuild.ts';
import { storeAppend } from './suites/store-append.ts';

const suites: Record<string, (ctx: BenchContext) => Promise<SuiteResult>> = {
  'store-append': storeAppend,
  nats: natsBaseline,
  'projection-rebuild': projectionRebuild,
  'grpc-overhead': grpcOverhead,
  'end-to-end': endToEnd,
};

const { values } = parseArgs({ options: { smoke: { type: 'boolean' }, only: { type: 'string' } } });
const smoke = values.smoke === true;
const selected = values.only ? values.only.split(',') : Object.keys(suites);
for (const name of selected)
  if (!suites[name]) throw new Error(`unknown suite ${name}; known: ${Object.keys(suites).join(', ')}`);

const log = (line: string) => console.log(`▸ ${line}`);
const pgData = mkdtempSync(join(tmpdir(), 'conveyor-bench-pg-'));
let pgUp = false;
const postgres = await ensurePostgres({
  url: process.env.CONVEYOR_BENCH_DATABASE_URL ?? process.env.DATABASE_URL,
  dataDir: pgData,
  port: await freePort(),
  log: (line) => {
    if (!pgUp) log(`postgres: ${line}`);
  },
});
pgUp = true;

const ctx: BenchContext = {
  adminUrl: postgres.url,
  smoke,
  phaseMs: smoke ? 400 : 5000,
  concurrencies: smoke ? [1, 8] : [1, 8, 32],
  log,
};

const report: Report = {
  title: 'Conveyor benchmark',
  machine: {
    cores: availableParallelism(),
    node: process.versions.node,
    postgres: await postgresVersion(postgres.url),
    nats: execFileSync(await natsServerBinary(), ['--version'], { encoding: 'utf8' }).trim(),
  },
  startedAt: new Date().toISOString(),
  smoke,
  rows: [],
  ratios: [],
  checks: [],
};

let failed = false;
try {
  for (const name of selected) {
    log(`suite ${name}`);
    const result = await suites[name]!(ctx);
    report.rows.push(...result.rows);
    report.ratios.push(
      ...result.ratios.map((r) => ({ ...r, ...(r.target ? { met: r.value >= r.target } : {}) })),
    );
    report.checks.push(...result.checks);
  }
  // Across suites: issue 10 asks end to end for ≥ 0.5× the raw transaction's ceiling at the widest concurrency.
  const widest = Math.max(...ctx.concurrencies);
  const rate = (group: string, name: string) =>
    report.rows.find((r) => r.group === group && r.name === name && r.concurrency === widest)?.perSecond;
  const endToEnd = rate('end to end', 'PlaceOrder, closed loop');
  const rawTx = rate('event store append', 'raw 4-statement tx');
  if (endToEnd && rawTx) {
    report.ratios.push({
      name: `end to end PlaceOrder vs raw 4-statement tx @${widest}`,
      value: endToEnd / rawTx,
      target: 0.5,
      met: endToEnd / rawTx >= 0.5,
    });
  }
} catch (error) {
  failed = true;
  report.checks.push({ name: 'harness', ok: false, detail: (error as Error).stack ?? String(error) });
} finally {
  await postgres.stop();
  rmSync(pgData, { recursive: true, force: true });
}

const dir = new URL('./results/', import.meta.url).pathname;
const files = writeReport(dir, smoke ? 'smoke' : 'latest', report);
console.log(`\nwrote ${files.join(', ')}`);
for (const r of report.ratios)
  console.log(`ratio ${r.name}: ${r.value.toFixed(2)}${r.target ? ` (target ≥ ${r.target})` : ''}`);
// A missed performance target is reported, not a failure of the run; a failed correctness check is.
const badChecks = report.checks.filter((c) => !c.ok && !c.target);
for (const c of report.checks) console.log(`${c.ok ? '✔' : c.target ? '·' : '✖'} ${c.name}: ${c.detail}`);
process.exit(failed || badChecks.length ? 1 : 0);

async function postgresVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string }>("select current_setting('server_version') as v");
    return `PostgreSQL ${rows[0]?.v}`;
  } finally {
    await client.end();
  }
}
