import { readFileSync } from 'node:fs';

/**
 * A process's peak resident set (VmHWM in /proc/<pid>/status, Linux): the
 * most memory it held at once since it started, in bytes. Undefined when the
 * process is gone or the field is missing.
 */
export function peakRssBytes(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
