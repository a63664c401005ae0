import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeTail, type OutputTail } from './child-output.ts';

/** Resolves with the exit code (null when killed by a signal) once `child` has exited. */
export function childExited(child: ChildProcess): Promise<number | null> {
  if (hasExited(child)) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => {
      if (child.pid === undefined) resolve(null);
    });
  });
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
}

/**
 * Sends `signal`, waits up to `graceMs` for the exit, then sends SIGKILL and waits again.
 * Resolves once the process is gone.
 */
export async function terminateChild(
  child: ChildProcess,
  signal: NodeJS.Signals,
  graceMs: number,
): Promise<void> {
  if (hasExited(child)) return;
  const exited = childExited(child);
  child.kill(signal);
  if (signal === 'SIGKILL') {
    await exited;
    return;
  }
  const controller = new AbortController();
  const timedOut = sleep(graceMs, true, { signal: controller.signal }).catch(() => false);
  const result = await Promise.race([exited.then(() => false), timedOut]);
  controller.abort();
  if (result && !hasExited(child)) {
    child.kill('SIGKILL');
    await exited;
  }
}

export interface ReadyWait {
  /** Describes the process in errors, e.g. "nats-server on 127.0.0.1:4222". */
  label: string;
  timeoutMs: number;
  /** Output of the process for error messages. */
  tail: OutputTail;
}

/**
 * Polls `isReady` until it returns true. Fails fast when the process exits or cannot be
 * spawned, and after `timeoutMs`; on failure the process is killed and the error carries
 * its last log lines.
 */
export async function waitForReady(
  child: ChildProcess,
  isReady: () => Promise<boolean>,
  wait: ReadyWait,
): Promise<void> {
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  const deadline = Date.now() + wait.timeoutMs;
  let problem: string | undefined;
  for (;;) {
    if (spawnError) problem = `could not be started: ${spawnError.message}`;
    else if (hasExited(child)) problem = `exited early (${child.exitCode ?? child.signalCode})`;
    else if (await isReady()) return;
    else if (Date.now() > deadline) problem = `did not become ready within ${wait.timeoutMs} ms`;
    if (problem) {
      await terminateChild(child, 'SIGKILL', 0);
      await Promise.race([wait.tail.closed, sleep(1000, undefined, { ref: false })]);
      throw new Error(`${wait.label} ${problem}\nlast log lines:\n${describeTail(wait.tail.lines())}`);
    }
    await sleep(50);
  }
}
