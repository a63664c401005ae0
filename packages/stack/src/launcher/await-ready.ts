import { setTimeout as sleep } from 'node:timers/promises';
import { canConnect } from '../net-utils.ts';
import type { ServiceProcess } from '../process-group.ts';
import { probeReadyz, type ReadyzResult } from './readyz.ts';

export interface ReadyTarget {
  name: string;
  opsUrl: string;
  grpcPort: number;
  process: ServiceProcess;
}

export interface AwaitReadyOptions {
  timeoutMs: number;
  signal: AbortSignal;
  log: (line: string) => void;
  /** How often the still-waiting services are named; default 5 s. */
  reportEveryMs?: number;
}

/**
 * Ready once the gRPC port accepts connections and /readyz answers 200 listing its checks.
 * /readyz is not asked earlier: a service's ops port is up before its checks are registered,
 * and an early "ready" with no checks would latch its gRPC health at NOT_SERVING.
 */
async function probe(target: ReadyTarget): Promise<ReadyzResult> {
  if (!(await canConnect('127.0.0.1', target.grpcPort))) {
    return { ready: false, detail: 'gRPC port not open yet', checks: 0 };
  }
  const result = await probeReadyz(target.opsUrl);
  return result.ready && result.checks === 0 ? { ...result, ready: false, detail: 'no checks yet' } : result;
}

export function describeExit(code: number | null): string {
  return code === null ? 'killed by a signal or could not be started' : `exit code ${code}`;
}

/**
 * Polls every target's /readyz until all answer 200. Rejects as soon as one exits, when
 * `signal` aborts, or after `timeoutMs` naming those still waiting.
 */
export async function awaitReady(targets: readonly ReadyTarget[], opts: AwaitReadyOptions): Promise<void> {
  const started = Date.now();
  const deadline = started + opts.timeoutMs;
  const reportEveryMs = opts.reportEveryMs ?? 5000;
  let nextReport = started + reportEveryMs;
  const exits = new Map<string, number | null>();
  for (const target of targets) void target.process.exited.then((code) => exits.set(target.name, code));
  const pending = new Map(targets.map((target) => [target.name, target]));
  const details = new Map<string, string>();

  for (;;) {
    opts.signal.throwIfAborted();
    for (const [name, code] of exits) {
      if (pending.has(name)) throw new Error(`${name} exited before it was ready (${describeExit(code)})`);
    }
    const results = await Promise.all(
      [...pending.values()].map(async (target) => ({ target, result: await probe(target) })),
    );
    for (const { target, result } of results) {
      if (result.ready && !exits.has(target.name)) {
        pending.delete(target.name);
        opts.log(`${target.name} is ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      } else details.set(target.name, result.detail);
    }
    if (pending.size === 0) return;
    const waiting = [...pending.keys()].map((name) => `${name} (readyz: ${details.get(name)})`).join(', ');
    if (Date.now() > deadline) {
      throw new Error(`not ready within ${opts.timeoutMs / 1000} s: ${waiting}`);
    }
    if (Date.now() >= nextReport) {
      opts.log(`still waiting for ${waiting}`);
      nextReport += reportEveryMs;
    }
    await sleep(200, undefined, { signal: opts.signal }).catch(() => {});
  }
}
