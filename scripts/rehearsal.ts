/**
 * The multi-replica rehearsal: a 3-node NATS cluster with R3 streams, two
 * replicas of every service, steady order load, node and replica kills.
 *   npm run rehearsal                         the full run (five phases of 25 s, a few minutes)
 *   npm run rehearsal -- --phase-seconds 5    shorter phases
 *   npm run rehearsal -- --workers 8          more load clients
 * Uses the PostgreSQL at CONVEYOR_TEST_DATABASE_URL / DATABASE_URL / 127.0.0.1:5432, or starts
 * an embedded one, in a database of its own that is dropped afterwards. The report is printed and
 * written to test-results/rehearsal/report.md and report.json; the exit code says whether it passed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createDatabase, dropDatabase, ensurePostgres, freePort } from '@conveyor/stack';
import { testDatabaseName } from '@conveyor/stack/testing';
import { runRehearsal } from '../test/rehearsal/rehearsal.ts';
import { formatReport, rehearsalFailures } from '../test/rehearsal/report.ts';

const root = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    'phase-seconds': { type: 'string', default: '25' },
    workers: { type: 'string', default: '6' },
    'max-orders': { type: 'string', default: '20000' },
  },
});
const phaseSeconds = Number(values['phase-seconds']);
const workers = Number(values.workers);
const maxOrders = Number(values['max-orders']);
if (!(phaseSeconds >= 2 && phaseSeconds <= 120) || !(workers >= 1 && workers <= 64) || !(maxOrders >= 1)) {
  console.error('usage: npm run rehearsal -- [--phase-seconds 2..120] [--workers 1..64] [--max-orders N]');
  process.exit(2);
}
// Five phases, start-up and convergence: the whole run is bounded.
const hardLimitMs = phaseSeconds * 5 * 1000 + 180_000;
const watchdog = setTimeout(() => {
  console.error(`rehearsal: still running after ${hardLimitMs / 1000} s; giving up`);
  process.exit(1);
}, hardLimitMs);
watchdog.unref();

const pgData = mkdtempSync(join(tmpdir(), 'conveyor-rehearsal-pg-'));
const postgres = await ensurePostgres({
  url: process.env.CONVEYOR_TEST_DATABASE_URL ?? process.env.DATABASE_URL,
  dataDir: pgData,
  port: await freePort(),
  log: (line) => console.log(`postgres: ${line}`),
});
const name = testDatabaseName('rehearsal');
const databaseUrl = await createDatabase(postgres.url, name);
let failed = true;
try {
  const report = await runRehearsal({
    databaseUrl,
    phaseMs: phaseSeconds * 1000,
    workers,
    pauseMs: 20,
    maxOrders,
    convergeTimeoutMs: 90_000,
    log: (line) => console.log(`rehearsal: ${line}`),
  });
  const text = formatReport(report);
  const dir = join(root, 'test-results/rehearsal');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'report.md'), text);
  writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n${text}`);
  console.log(`report written to ${join(dir, 'report.md')} and report.json`);
  failed = rehearsalFailures(report).length > 0;
} finally {
  await dropDatabase(postgres.url, name).catch((error: Error) => console.error(error.message));
  await postgres.stop();
  rmSync(pgData, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
