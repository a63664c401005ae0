import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dropDatabase, freePort, repoRoot, waitUntil } from '@conveyor/stack';
import { readStackFile, stackFilePath } from '@conveyor/stack/stack-file';
import {
  isolatedUpEnv,
  type TestNats,
  testAdminUrl,
  testDatabaseName,
  testNats,
} from '@conveyor/stack/testing';
import { terminateChild } from '../../packages/stack/src/child-control.ts';
import { isPortFree } from '../../packages/stack/src/launcher/ports.ts';

/**
 * The README's tour: the command lines of every `sh` block under "## Tour" (its subsections
 * included), a line ending in a backslash joined with the next.
 */
function tourCommands(readme: string): string[] {
  const start = readme.indexOf('\n## Tour');
  const end = readme.indexOf('\n## ', start + 1);
  const tour = readme.slice(start, end);
  const blocks = [...tour.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  if (blocks.length === 0) throw new Error('the README has no ```sh block under ## Tour');
  return blocks
    .flatMap((block) => block.replace(/\\\n\s*/g, '').split('\n'))
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

const PLACEHOLDERS = ['ORDER_ID', 'USER_ID', 'DEAD_LETTER_ID'] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];

interface Run {
  line: string;
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * What a command of the tour must show, found by its line. Unlisted commands must exit 0.
 * `until`: the output the README's comment promises, retried while the system catches up (the
 * tour is read at a human's pace; events take milliseconds, but not zero). `fails`: the lines
 * the tour shows being refused.
 */
interface Expectation {
  line: RegExp;
  until?: RegExp;
  fails?: RegExp;
}
const EXPECTATIONS: Expectation[] = [
  { line: /users create --email ada@/, until: /^signed up ada@example\.com/ },
  { line: /^\.\/bin\/conveyor login --email ada@/, until: /logged in as ada@example\.com \(customer\)/ },
  { line: /^\.\/bin\/conveyor notifications list$/, until: /ada@example\.com/ },
  { line: /conveyor mail +# what the local SMTP sink/, until: /Welcome to Conveyor/ },
  { line: /--email not-an-email/, fails: /email/ },
  { line: /products list/, until: /MUG-001/ },
  { line: /orders place --item MUG-001:2/, until: /^placed order/ },
  { line: /login --email admin@conveyor\.local/, until: /\(admin\)/ },
  { line: /orders cancel ORDER_ID/, fails: /FAILED_PRECONDITION: order is delivered; cannot cancel/ },
  { line: /orders list --user USER_ID/, until: /ORDER_ID/ },
  { line: /conveyor mail +# confirmation/, until: /delivered/i },
  { line: /webhooks register --global/, until: /registered webhook/ },
  { line: /webhooks sink --refuse/, until: /answers 410 Gone/ },
  { line: /notifications list +# the webhook delivery/, until: /webhook.*410/ },
  { line: /dlq list/, until: /order\.created/ },
  { line: /dlq show DEAD_LETTER_ID/, until: /410/ },
  { line: /dlq redrive DEAD_LETTER_ID/, until: /^redrove 1 dead letter/ },
  { line: /webhooks sink +# what it received/, until: /204 +order\.created/ },
  { line: /consumers list/, until: /notifications\/ORDERS\/notifications/ },
  { line: /consumers pause/, until: /paused/ },
  { line: /timers list/, until: /order\.payment-timeout/ },
  { line: /conveyor status/, until: /^all 4 up$/m },
  { line: /^curl -s localhost:8080\/api\/products/, until: /"sku":"MUG-001"/ },
  { line: /^curl .*\/api\/login/, until: /"email":"ada@example\.com"/ },
  { line: /^curl -s -b jar/, until: /ORDER_ID/ },
];

/**
 * The README's tour, run as written (issue 27 part 4): `./bin/conveyor up` as the quickstart
 * says, then every command of the tour through `./bin/conveyor`, in order, in a shell, from the
 * repository's root, substituting only the CAPITALISED placeholders from earlier output. What
 * the test adds: its own state folder, database, NATS and ports (so a developer's stack may
 * keep running), and waiting for what each comment promises before judging a command.
 */
describe('the README tour, as written', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const database = testDatabaseName('readme_tour');
  let home: string;
  let nats: TestNats;
  let env: NodeJS.ProcessEnv;
  let launcher: ChildProcess | undefined;
  let launcherOutput = '';

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'conveyor-tour-'));
    nats = await testNats();
    env = await isolatedUpEnv({ home, databaseUrl: testAdminUrl(), database, natsUrl: nats.url });
    // The gateway where the tour's curl lines look for it, unless this machine has 8080 taken.
    env.GATEWAY_GRPC_PORT = (await isPortFree(8080)) ? '8080' : String(await freePort());
    // Likewise the webhook sink the tour registers.
    env.WEBHOOK_SINK_PORT = (await isPortFree(9999)) ? '9999' : String(await freePort());
  });

  after(async () => {
    if (launcher) await terminateChild(launcher, 'SIGINT', 30_000);
    await nats?.stop();
    await dropDatabase(testAdminUrl(), database).catch(() => {});
    await rm(home, { recursive: true, force: true });
  });

  it('finds the tour and its placeholders in the README', () => {
    const commands = tourCommands(readme);
    assert.ok(commands.length >= 30, `only ${commands.length} commands`);
    assert.ok(
      commands.every((line) => line.startsWith('./bin/conveyor ') || line.startsWith('curl ')),
      commands.join('\n'),
    );
    for (const placeholder of PLACEHOLDERS) assert.ok(commands.some((line) => line.includes(placeholder)));
    // Every expectation still names a line of the tour.
    for (const expectation of EXPECTATIONS) {
      assert.ok(
        commands.some((line) => expectation.line.test(line)),
        `no tour line matches ${expectation.line}`,
      );
    }
  });

  it('runs every command of the tour against `./bin/conveyor up`', { timeout: 600_000 }, async () => {
    const child = spawn(join(repoRoot, 'bin/conveyor'), ['up'], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    launcher = child;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (launcherOutput += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (launcherOutput += chunk));
    await waitUntil(
      () => {
        if (child.exitCode !== null) throw new Error(`up exited (${child.exitCode}):\n${launcherOutput}`);
        return launcherOutput.includes('Conveyor is up');
      },
      { timeoutMs: 120_000, intervalMs: 200, message: `up never printed its table:\n${launcherOutput}` },
    );
    const stack = await readStackFile(stackFilePath(home));
    const sink = stack?.webhookSink;
    assert.ok(sink, 'the stack file names the webhook sink');
    const gateway = stack?.web?.gateway;
    assert.ok(gateway, 'the stack file names the gateway');

    const values = new Map<Placeholder, string>();
    const transcript: string[] = [];
    const substitute = (line: string): string => {
      let command = line;
      for (const placeholder of PLACEHOLDERS) {
        if (!command.includes(placeholder)) continue;
        const value = values.get(placeholder);
        assert.ok(value, `${placeholder} is used before any output gave it:\n${line}`);
        command = command.replaceAll(placeholder, value);
      }
      // Only when 9999 or 8080 was taken on this machine (a developer's stack) do the ports differ.
      return command
        .replaceAll('http://127.0.0.1:9999', sink)
        .replaceAll('localhost:8080', gateway.replace(/^http:\/\//, ''));
    };
    const shell = (command: string): Promise<Run> =>
      new Promise((resolve) => {
        execFile(
          'bash',
          ['-c', command],
          // curl's cookie jar lands in the test's folder, not in the repository.
          { cwd: command.startsWith('curl ') ? home : repoRoot, env, timeout: 60_000 },
          (error, stdout, stderr) => {
            const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
            resolve({ line: command, code, stdout, stderr });
          },
        );
      });

    for (const line of tourCommands(readme)) {
      const command = substitute(line);
      const expectation = EXPECTATIONS.find((e) => e.line.test(line));
      let result: Run | undefined;
      const wanted = expectation?.until
        ? new RegExp(
            expectation.until.source.replaceAll('ORDER_ID', values.get('ORDER_ID') ?? 'ORDER_ID'),
            expectation.until.flags,
          )
        : undefined;
      await waitUntil(
        async () => {
          result = await shell(command);
          if (expectation?.fails) return result.code !== 0;
          return result.code === 0 && (!wanted || wanted.test(result.stdout));
        },
        {
          timeoutMs: 30_000,
          intervalMs: 500,
          message: `tour line failed or never showed ${wanted ?? 'success'}:\n$ ${command}`,
        },
      ).catch((error: Error) => {
        throw new Error(
          `${error.message}\nexit ${result?.code}\n${result?.stdout}\n${result?.stderr}\n\n` +
            `tour so far:\n${transcript.join('\n')}\n\nup:\n${launcherOutput.slice(-4000)}`,
        );
      });
      const run = result as Run;
      transcript.push(`$ ${command}  → exit ${run.code}`);
      if (expectation?.fails) {
        assert.match(run.stderr, expectation.fails, `$ ${command}\n${run.stderr}`);
        assert.notEqual(run.code, 1, `a refusal is a usage or service error, not a crash:\n${run.stderr}`);
      }
      captureFrom(line, run.stdout, values);
    }

    // After the tour (its republish included) a marker order: once its webhook arrives, everything
    // before it has been handled, so a late duplicate would be in what the sinks hold by then.
    const marker = await shell('./bin/conveyor orders place --item MUG-001:1 --json');
    const markerId = (JSON.parse(marker.stdout) as { order: { id: string } }).order.id;
    let received: { eventId: string; eventType: string; status: number; body: string }[] = [];
    await waitUntil(
      async () => {
        const sink = await shell('./bin/conveyor webhooks sink --json --limit 500');
        received = (JSON.parse(sink.stdout) as { received: typeof received }).received;
        return received.some((r) => r.status === 204 && r.body.includes(markerId));
      },
      { timeoutMs: 30_000, intervalMs: 300, message: 'the marker order never reached the webhook sink' },
    );
    // The refused event came back once, after the redrive; no event was delivered twice.
    const refused = received.filter((r) => r.status === 410);
    assert.equal(refused.length, 1, JSON.stringify(received));
    const again = received.filter((r) => r.eventId === refused[0]?.eventId);
    assert.deepEqual(again.map((r) => r.status).sort(), [204, 410], JSON.stringify(again));
    const delivered = received.filter((r) => r.status === 204).map((r) => r.eventId);
    assert.equal(
      new Set(delivered).size,
      delivered.length,
      `a webhook delivered twice: ${delivered.join(', ')}`,
    );
    // And no mail went out twice (the republish and the replayed consumer included).
    const mails = JSON.parse((await shell('./bin/conveyor mail --json')).stdout) as {
      to: string[];
      subject: string;
    }[];
    const keys = mails.map((mail) => `${mail.to.join(',')} ${mail.subject}`);
    assert.equal(new Set(keys).size, keys.length, `a mail sent twice:\n${keys.sort().join('\n')}`);
  });
});

/** Takes the placeholders' values from a command's output, the first time each is shown. */
function captureFrom(line: string, stdout: string, values: Map<Placeholder, string>): void {
  const field = (name: string) => new RegExp(`^${name} +(\\S+)$`, 'm').exec(stdout)?.[1];
  if (/orders place /.test(line) && !values.has('ORDER_ID')) {
    const id = field('id');
    const user = field('user');
    assert.ok(id && user, `orders place printed no id and user:\n${stdout}`);
    values.set('ORDER_ID', id);
    values.set('USER_ID', user);
  }
  if (/dlq list/.test(line) && !values.has('DEAD_LETTER_ID')) {
    const row = stdout.split('\n').find((row) => /\border\.created\b/.test(row));
    const id = row?.trim().split(/\s+/)[0];
    assert.ok(id, `dlq list showed no order.created dead letter:\n${stdout}`);
    values.set('DEAD_LETTER_ID', id);
  }
}
