/**
 * Runs every test: static checks, then node:test over the tiers.
 *   ./bin/conveyor test            everything
 *   ./bin/conveyor test unit       one tier (unit | int | e2e), no static checks
 *   ./bin/conveyor test FILE...    just these test files
 * Integration tests need PostgreSQL: the one at CONVEYOR_TEST_DATABASE_URL,
 * DATABASE_URL or 127.0.0.1:5432 when it answers, else an embedded one started
 * here. NATS servers are started by the tests themselves (they kill them).
 * The last line is "N passed, N failed": CI reads it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePostgres, freePort, natsServerBinary } from '@conveyor/stack';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const tiers = ['unit', 'int', 'e2e'] as const;
const selectedTier = tiers.find((t) => args[0] === t);
const files = selectedTier ? [] : args;
const everything = !selectedTier && files.length === 0;

let passed = 0;
let failed = 0;
let skipped = 0;
const failures: string[] = [];

function run(command: string, commandArgs: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, { cwd: root, env, stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on('error', () => resolve(127));
  });
}

async function check(name: string, command: string, commandArgs: string[]): Promise<void> {
  console.log(`\n▶ check: ${name}`);
  const started = Date.now();
  const code = await run(command, commandArgs);
  const took = `${((Date.now() - started) / 1000).toFixed(1)} s`;
  if (code === 0) {
    passed++;
    console.log(`✔ check: ${name} (${took})`);
  } else {
    failed++;
    failures.push(`check: ${name}`);
    console.log(`✖ check: ${name} failed (exit ${code}, ${took})`);
  }
}

const bin = (name: string) => join(root, 'node_modules/.bin', name);

if (everything) {
  await check('types (tsc --noEmit)', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
  await check('format and lint (biome)', bin('biome'), ['check', '.']);
  await check('proto lint (buf lint)', bin('buf'), ['lint']);
  await check('proto compatibility (buf breaking against proto/baseline.binpb)', bin('buf'), [
    'breaking',
    '--against',
    'proto/baseline.binpb',
  ]);
  await check('generated code is current', process.execPath, ['scripts/gen.ts', '--check']);
}

console.log('\n▶ test infrastructure');
let postgresUp = false;
const pgData = mkdtempSync(join(tmpdir(), 'conveyor-test-pg-'));
const postgres = await ensurePostgres({
  url: process.env.CONVEYOR_TEST_DATABASE_URL ?? process.env.DATABASE_URL,
  dataDir: pgData,
  port: await freePort(),
  // The server's own log only until it is up; afterwards it would drown the test output.
  log: (line) => {
    if (!postgresUp) console.log(`  postgres: ${line}`);
  },
});
postgresUp = true;
console.log(`  postgres: ${postgres.started ? 'started an embedded server' : 'using the running server'}`);
const nats = await natsServerBinary();
console.log(`  nats-server: ${nats} (each integration test starts its own)`);

const patterns = files.length
  ? files
  : (selectedTier ? [selectedTier] : tiers).flatMap((tier) => [
      `packages/*/src/**/*.${tier}.test.ts`,
      `services/*/src/**/*.${tier}.test.ts`,
      `test/**/*.${tier}.test.ts`,
      `bench/**/*.${tier}.test.ts`,
    ]);
const summaryDir = mkdtempSync(join(tmpdir(), 'conveyor-test-summary-'));
const summaryPath = join(summaryDir, 'summary.json');
const code = await run(
  process.execPath,
  [
    '--test',
    '--test-concurrency=2',
    '--test-timeout=180000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=./scripts/test-summary-reporter.ts',
    `--test-reporter-destination=${join(summaryDir, 'reporter.out')}`,
    ...patterns,
  ],
  {
    ...process.env,
    CONVEYOR_TEST_DATABASE_URL: postgres.url,
    CONVEYOR_TEST_SUMMARY: summaryPath,
  },
);
await postgres.stop();
rmSync(pgData, { recursive: true, force: true });

interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  failures: string[];
}
function readSummary(): Summary {
  try {
    return JSON.parse(readFileSync(summaryPath, 'utf8')) as Summary;
  } catch {
    return { passed: 0, failed: 1, skipped: 0, failures: [`node --test exited ${code} without a summary`] };
  }
}
const tests = readSummary();
rmSync(summaryDir, { recursive: true, force: true });
passed += tests.passed;
failed += tests.failed;
skipped += tests.skipped;
failures.push(...tests.failures);
if (code !== 0 && tests.failed === 0) {
  failed++;
  failures.push(`node --test exited with ${code}`);
}

if (failures.length) console.log(`\nFailed:\n${failures.map((f) => `  ✖ ${f}`).join('\n')}`);
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 ? 0 : 1);
