import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { childExited, terminateChild } from './child-control.ts';
import { isAlive, readStackFile, type StackFile, stackFilePath } from './launcher/stack-file.ts';
import { dropDatabase } from './postgres-infra.ts';
import { isolatedUpEnv } from './testing/up-env.ts';
import { type TestNats, testAdminUrl, testDatabaseName, testNats } from './throwaway.ts';
import { waitUntil, within } from './wait-until.ts';

const upScript = fileURLToPath(new URL('./up.ts', import.meta.url));
const cliScript = fileURLToPath(new URL('../../cli/src/main.ts', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function node(script: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { env, timeout: timeoutMs }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

describe('conveyor up (launcher, end to end)', () => {
  let home: string;
  let nats: TestNats;
  let env: NodeJS.ProcessEnv;
  let launcher: ChildProcess | undefined;
  let output = '';
  const database = testDatabaseName('up_e2e');

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'conveyor-up-'));
    nats = await testNats();
    env = await isolatedUpEnv({ home, databaseUrl: testAdminUrl(), database, natsUrl: nats.url });
  });

  after(async () => {
    // SIGINT first, so the launcher stops its services; SIGKILL only if it does not exit.
    if (launcher) await terminateChild(launcher, 'SIGINT', 20_000);
    await nats?.stop();
    await dropDatabase(testAdminUrl(), database).catch(() => {});
    await rm(home, { recursive: true, force: true });
  });

  it('starts everything, serves the CLI and stops cleanly on SIGINT', async () => {
    const child = spawn(process.execPath, [upScript], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    launcher = child;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = childExited(child);

    await waitUntil(
      () => {
        if (child.exitCode !== null) throw new Error(`launcher exited (${child.exitCode}):\n${output}`);
        return output.includes('Conveyor is up');
      },
      { timeoutMs: 90_000, intervalMs: 100, message: `the endpoint table never appeared:\n${output}` },
    );
    assert.match(output, /▸ services: users: \d+ migration\(s\) applied/);
    assert.match(output, /▸ services: gateway is ready/);
    assert.match(output, /▸ services: users: admin@conveyor\.local is the first admin/);
    assert.match(output, /^ {2}Admin: +admin@conveyor\.local, password 'local-admin-password'/m);
    assert.match(output, /^ {2}users +127\.0\.0\.1:\d+ +http:\/\/127\.0\.0\.1:\d+$/m);

    const stack = (await readStackFile(stackFilePath(home))) as StackFile;
    assert.equal(stack.pid, child.pid);
    assert.equal(stack.status, 'running');
    assert.equal(stack.nats, nats.url);
    assert.ok(stack.services.users && stack.services.notifications, JSON.stringify(stack));
    const pids = Object.values(stack.services).map((service) => service.pid ?? 0);
    assert.ok(pids.every((pid) => isAlive(pid)));

    const second = await node(upScript, [], env);
    assert.equal(second.code, 1, second.stdout + second.stderr);
    assert.match(second.stderr, /a Conveyor stack is already running \(pid \d+/);

    // The CLI finds the stack through CONVEYOR_HOME's stack.json.
    const cliEnv = { ...env };
    const email = `ada.${Date.now()}@example.com`;
    const created = await node(
      cliScript,
      ['users', 'create', '--email', email, '--name', 'Ada Lovelace', '--password', 'up-test-password'],
      cliEnv,
    );
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, new RegExp(`^signed up ${email.replace(/\./g, '\\.')}: log in`));
    // The local stack makes admin@conveyor.local its first admin, and says so.
    const adminPassword = 'local-admin-password';
    const login = await node(
      cliScript,
      ['login', '--email', 'admin@conveyor.local', '--password', adminPassword],
      cliEnv,
    );
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /\(admin\)/);
    const dlq = await node(cliScript, ['dlq', 'list'], cliEnv);
    assert.equal(dlq.code, 0, dlq.stderr);
    const sequences = await node(cliScript, ['dead-letters', 'list'], cliEnv);
    assert.equal(sequences.code, 0, sequences.stderr);
    assert.match(sequences.stdout, /no dead letters: every key flows/);

    await waitUntil(
      async () => {
        const mail = await node(cliScript, ['mail'], cliEnv);
        return mail.code === 0 && mail.stdout.includes(email) && mail.stdout.includes('Welcome to Conveyor');
      },
      { timeoutMs: 20_000, intervalMs: 300, message: 'the welcome mail never reached the SMTP sink' },
    );
    const status = await node(cliScript, ['status'], cliEnv);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.match(status.stdout, /^users +127\.0\.0\.1:\d+ +SERVING +http:\S+ +ready$/m);
    assert.match(status.stdout, /^gateway +http:\/\/127\.0\.0\.1:\d+ +SERVING +http:\S+ +ready$/m);
    assert.match(status.stdout, /^all 4 up$/m);

    const stopStarted = Date.now();
    child.kill('SIGINT');
    const code = await within(exited, 20_000, 'timeout');
    assert.equal(code, 0, `launcher exit after SIGINT (${Date.now() - stopStarted} ms):\n${output}`);
    assert.match(output, /■ services stopped: .*users \(exit 0\)/);
    assert.match(output, /■ nats: left running/);
    assert.equal(existsSync(stackFilePath(home)), false, 'stack.json is removed');
    await waitUntil(() => pids.every((pid) => !isAlive(pid)), {
      timeoutMs: 2000,
      message: `service processes left running: ${pids.filter(isAlive).join(', ')}`,
    });
  });
});
