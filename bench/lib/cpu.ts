import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time used by the processes of the system under load, read from /proc (Linux): where the
 * cores go, per component, over a phase. A component is a function listing its pids now (so a
 * restarted process is followed); a server that forks workers (Postgres) is counted as its whole
 * tree with `processTree`.
 */
export type CpuComponents = Record<string, () => number[]>;

const TICKS_PER_SECOND = 100; // USER_HZ on Linux x86_64

interface Stat {
  ppid: number;
  /** utime + stime. */
  own: number;
  /** cutime + cstime: children that exited and were waited for. */
  reaped: number;
}

function statOf(pid: number): Stat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      ppid: Number(f[1]),
      own: (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND,
      reaped: (Number(f[13]) + Number(f[14])) / TICKS_PER_SECOND,
    };
  } catch {
    return undefined; // gone since it was listed
  }
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number);
}

export function pidsNamed(command: string): number[] {
  return allPids().filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === command;
    } catch {
      return false;
    }
  });
}

/**
 * `root` and its direct children (a Postgres postmaster and its backends and workers). The root
 * is listed first: its reaped time carries the CPU of children that exited, so a backend that
 * ends between two samples is still counted.
 */
export function processTree(root: number): number[] {
  return [root, ...allPids().filter((pid) => pid !== root && statOf(pid)?.ppid === root)];
}

export interface CpuSample {
  at: number;
  /** Seconds by component and pid; a tree's root also carries its reaped children's time. */
  seconds: Map<string, Map<number, number>>;
}

export function sampleCpu(components: CpuComponents): CpuSample {
  const seconds = new Map<string, Map<number, number>>();
  for (const [name, pids] of Object.entries(components)) {
    const listed = pids();
    const byPid = new Map<number, number>();
    for (const [i, pid] of listed.entries()) {
      const s = statOf(pid);
      if (s) byPid.set(pid, s.own + (i === 0 && listed.length > 1 ? s.reaped : 0));
    }
    seconds.set(name, byPid);
  }
  return { at: performance.now(), seconds };
}

/**
 * CPU seconds each component used between two samples: its total then minus its total before. For
 * a tree that is exact while the root lives (an exited child's time moves into the root's reaped
 * time); a single process must not be restarted in between.
 */
export function cpuBetween(before: CpuSample, after: CpuSample): { name: string; seconds: number }[] {
  const total = (pids: Map<number, number> | undefined) =>
    [...(pids ?? new Map()).values()].reduce((a, b) => a + b, 0);
  return [...after.seconds].map(([name, pids]) => ({
    name,
    seconds: Math.max(0, total(pids) - total(before.seconds.get(name))),
  }));
}
