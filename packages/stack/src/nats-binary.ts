import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { childExited } from './child-control.ts';
import { followOutput } from './child-output.ts';

const INSTALL_HINT = 'sudo apt-get install nats-server';
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/sbin', '/usr/local/bin', '/usr/bin'];

let pending: Promise<string> | undefined;

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Looks for `nats-server` on PATH and in the usual system folders. */
export async function findNatsServer(): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of new Set(dirs)) {
    const candidate = join(dir, 'nats-server');
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

async function aptGet(args: string[], log: (line: string) => void): Promise<boolean> {
  log(`$ apt-get ${args.join(' ')}`);
  const child = spawn('apt-get', args, {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  followOutput(child, (line) => log(`apt-get | ${line}`));
  child.once('error', (error) => log(`apt-get could not be run: ${error.message}`));
  return (await childExited(child)) === 0;
}

export interface LocateDeps {
  find: () => Promise<string | undefined>;
  isRoot: boolean;
  apt: (args: string[], log: (line: string) => void) => Promise<boolean>;
}

const realDeps = (): LocateDeps => ({ find: findNatsServer, isRoot: process.getuid?.() === 0, apt: aptGet });

/** Finds nats-server, installing it with apt-get when root (apt-get update only if needed). */
export async function locateNatsServer(
  log: (line: string) => void,
  deps: LocateDeps = realDeps(),
): Promise<string> {
  const found = await deps.find();
  if (found) return found;
  if (!deps.isRoot) {
    throw new Error(`nats-server was not found on PATH or in /usr/sbin. Install it with: ${INSTALL_HINT}`);
  }
  log('nats-server not found; installing the Debian package nats-server');
  const install = ['install', '-y', '--no-install-recommends', 'nats-server'];
  const installed =
    (await deps.apt(install, log)) || ((await deps.apt(['update'], log)) && (await deps.apt(install, log)));
  const after = installed ? await deps.find() : undefined;
  if (!after) {
    throw new Error(`nats-server could not be installed automatically. Install it with: ${INSTALL_HINT}`);
  }
  log(`installed ${after}`);
  return after;
}

/**
 * Path of the nats-server executable. When missing and running as root it is installed
 * with apt-get (progress goes to `log`); otherwise the error explains how to install it.
 */
export function natsServerBinary(
  log: (line: string) => void = (line) => console.error(line),
): Promise<string> {
  pending ??= locateNatsServer(log).catch((error: unknown) => {
    pending = undefined;
    throw error;
  });
  return pending;
}
