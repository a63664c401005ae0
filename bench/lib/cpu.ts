import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time used by the processes of the system under load, read from
 * /proc (Linux): where the cores go, per component, over a phase. Postgres is
 * every process named `postgres` on the machine (the bench's backends and the
 * server's own workers); the bench process itself is the load generator and
 * the in-process SMTP sink.
 */
export type CpuComponents = Record<string, () => number[]>;

const TICKS_PER_SECOND = 100; // USER_HZ on Linux x86_64

function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime + stime
  } catch {
    return 0; // gone since it was listed
  }
}

export function pidsNamed(command: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === command) pids.push(Number(entry));
    } catch {}
  }
  return pids;
}

export interface CpuSample {
  at: number;
  seconds: Map<string, Map<number, number>>;
}

export function sampleCpu(components: CpuComponents): CpuSample {
  const seconds = new Map<string, Map<number, number>>();
  for (const [name, pids] of Object.entries(components)) {
    seconds.set(name, new Map(pids().map((pid) => [pid, cpuSecondsOf(pid)])));
  }
  return { at: performance.now(), seconds };
}

/** CPU seconds each component used between two samples (processes present in the later one). */
export function cpuBetween(before: CpuSample, after: CpuSample): { name: string; seconds: number }[] {
  return [...after.seconds].map(([name, pids]) => {
    let seconds = 0;
    for (const [pid, now] of pids) seconds += now - (before.seconds.get(name)?.get(pid) ?? 0);
    return { name, seconds };
  });
}
