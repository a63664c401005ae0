import { relative } from 'node:path';
import { paint } from '../pino-line.ts';
import { repoRoot } from './repo-root.ts';

export interface Progress {
  color: boolean;
  /** `▸ topic: text` while starting. */
  step(topic: string, text: string): void;
  /** `■ text` while stopping. */
  stop(text: string): void;
  /** `✖ text` on stderr. */
  error(text: string): void;
  /** A log callback for ensurePostgres / ensureNats: `name | …` lines are server output. */
  infraLog(topic: string): (line: string) => void;
}

const PREFIX_WIDTH = 14;

export function createProgress(write: (text: string) => void = (text) => process.stdout.write(text)) {
  const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
  const progress: Progress = {
    color,
    step: (topic, text) => write(`${paint('▸', '36', color)} ${topic}: ${text}\n`),
    stop: (text) => write(`${paint('■', '33', color)} ${text}\n`),
    error: (text) => process.stderr.write(`${paint('✖', '31', color)} ${text}\n`),
    infraLog: (topic) => (line) => {
      const server = /^([\w-]+) \| (.*)$/s.exec(line);
      if (!server) progress.step(topic, line);
      else write(`${paint(`${server[1]?.padEnd(PREFIX_WIDTH)} |`, '90', color)} ${server[2]}\n`);
    },
  };
  return progress;
}

/** `path` relative to the repository when inside it, for messages. */
export function displayPath(path: string): string {
  const inside = relative(repoRoot, path);
  return inside && !inside.startsWith('..') ? inside : path;
}
