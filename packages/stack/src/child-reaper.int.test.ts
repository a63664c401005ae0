import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { childExited } from './child-control.ts';
import { waitUntil } from './wait-until.ts';

const natsModule = new URL('./nats-server.ts', import.meta.url).href;

/** Running and not a zombie (an orphan's zombie lingers until init reaps it). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Runs a parent process that starts nats-server, then ends as `ending` says. */
async function parentWithNats(
  storeDir: string,
  ending: string,
): Promise<{ natsPid: number; parentExit: Promise<unknown> }> {
  const code = `
    const { startNatsServer } = await import(${JSON.stringify(natsModule)});
    const nats = await startNatsServer({ storeDir: ${JSON.stringify(storeDir)} });
    console.log(nats.pid);
    ${ending}`;
  const parent = spawn(process.execPath, ['--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const parentExit = childExited(parent);
  const lines = createInterface({ input: parent.stdout });
  const first = await new Promise<string>((resolve) => lines.once('line', resolve));
  if (ending.includes('SIGTERM_FROM_TEST')) parent.kill('SIGTERM');
  return { natsPid: Number(first), parentExit };
}

describe('child reaper', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'conveyor-reaper-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const [label, ending] of [
    ['process.exit()', 'process.exit(3);'],
    ['an uncaught exception', 'setTimeout(() => { throw new Error("boom"); }, 10);'],
    ['SIGTERM without handlers', '/* SIGTERM_FROM_TEST */ setInterval(() => {}, 1000);'],
  ] as const) {
    it(`stops nats-server when the parent ends by ${label}`, async () => {
      const { natsPid, parentExit } = await parentWithNats(join(dir, label.replace(/\W/g, '')), ending);
      assert.ok(natsPid > 0);
      await parentExit;
      await waitUntil(() => !alive(natsPid), {
        timeoutMs: 5000,
        message: `nats-server ${natsPid} still running`,
      });
    });
  }
});
