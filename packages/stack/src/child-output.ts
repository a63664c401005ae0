import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export interface OutputTail {
  /** The most recent lines of stdout and stderr, oldest first. */
  lines(): string[];
  /** Resolves once both streams have ended (all lines delivered). */
  closed: Promise<void>;
}

/** Reads a child's stdout and stderr line by line, keeping the last `keep` lines. */
export function followOutput(
  child: ChildProcess,
  onLine: (line: string, stream: 'stdout' | 'stderr') => void = () => {},
  keep = 50,
): OutputTail {
  const recent: string[] = [];
  const follow = (stream: Readable | null, name: 'stdout' | 'stderr'): Promise<void> => {
    if (!stream) return Promise.resolve();
    const reader = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
    reader.on('line', (line) => {
      recent.push(line);
      if (recent.length > keep) recent.shift();
      onLine(line, name);
    });
    return new Promise((resolve) => reader.once('close', resolve));
  };
  const closed = Promise.all([follow(child.stdout, 'stdout'), follow(child.stderr, 'stderr')]).then(() => {});
  return { lines: () => [...recent], closed };
}

/** Formats the last lines of a process's output for an error message. */
export function describeTail(lines: string[], count = 20): string {
  if (lines.length === 0) return '(no output)';
  return lines
    .slice(-count)
    .map((line) => `  | ${line}`)
    .join('\n');
}
