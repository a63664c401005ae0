import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { childExited, terminateChild } from './child-control.ts';
import { followOutput } from './child-output.ts';
import { trackChild } from './child-reaper.ts';
import { formatLogLine, paint } from './pino-line.ts';

export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  /** Merged over process.env; an undefined value removes the variable. */
  env: Record<string, string | undefined>;
  cwd: string;
  /** Colour the prefix and pino levels; default: stdout is a TTY and NO_COLOR is unset. */
  color?: boolean;
  /** Width the name is padded to in the prefix; default 14. */
  prefixWidth?: number;
  /** Where prefixed lines go; default process.stdout. */
  write?: (text: string) => void;
  /** Pino's JSON lines as written (default: rendered readably unless CONVEYOR_LOG_JSON=1). */
  json?: boolean;
}

export interface ServiceProcess {
  name: string;
  pid: number | undefined;
  /** Exit code, or null when killed by a signal or the command could not be started. */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs: number): Promise<void>;
  kill(): Promise<void>;
}

const PALETTE = ['36', '35', '33', '32', '34', '96', '95', '93', '92', '94'];

export function prefixColor(name: string): string {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) >>> 0;
  return PALETTE[hash % PALETTE.length] ?? '36';
}

/** process.env with `overrides` applied; an undefined value removes the variable. */
export function environment(overrides: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/**
 * Starts a service and copies its stdout and stderr, line by line, to stdout behind a
 * `name |` prefix. Pino JSON lines are rendered readably unless CONVEYOR_LOG_JSON=1.
 */
export function spawnService(spec: ServiceSpec): ServiceProcess {
  const color = spec.color ?? (process.stdout.isTTY === true && !process.env.NO_COLOR);
  const raw = spec.json ?? process.env.CONVEYOR_LOG_JSON === '1';
  const write = spec.write ?? ((text: string) => process.stdout.write(text));
  const prefix = paint(`${spec.name.padEnd(spec.prefixWidth ?? 14)} |`, prefixColor(spec.name), color);
  const emit = (text: string): void => {
    write(
      `${text
        .split('\n')
        .map((line) => `${prefix} ${line}`)
        .join('\n')}\n`,
    );
  };

  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: environment(spec.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child, 'SIGTERM');
  const tail = followOutput(child, (line) => emit(raw ? line : formatLogLine(line, color)), 0);
  child.once('error', (error) =>
    emit(paint(`failed to start ${spec.command}: ${error.message}`, '31', color)),
  );

  const exited = childExited(child).then(async (code) => {
    // Let buffered output through; grandchildren holding the pipes must not block this.
    await Promise.race([tail.closed, sleep(500, undefined, { ref: false })]);
    if (child.pid !== undefined) {
      const how = code === null ? `killed by ${child.signalCode}` : `exited with code ${code}`;
      emit(paint(how, code === 0 ? '90' : '33', color));
    }
    return code;
  });

  return {
    name: spec.name,
    pid: child.pid,
    exited,
    async stop(graceMs) {
      await terminateChild(child, 'SIGTERM', graceMs);
      await exited;
    },
    async kill() {
      await terminateChild(child, 'SIGKILL', 0);
      await exited;
    },
  };
}
