import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { repoRoot } from './repo-root.ts';

/**
 * `<home>/stack.json`, written by `conveyor up` and read by the CLI. It exists from the
 * launcher's start (status "starting") to its stop; while it names a live pid, no second
 * launcher starts.
 */
export interface StackFile {
  startedAt: string;
  pid: number;
  status: 'starting' | 'running';
  services: Record<string, StackService>;
  /** Password redacted. */
  postgres?: string;
  nats?: string;
  smtp?: { smtp: string; web: string };
  /** The webhook sink's base URL. */
  webhookSink?: string;
  /** HTTP services (the gateway and its web console) by name: their base URL. */
  web?: Record<string, string>;
  /** The ops port (/healthz, /readyz, /metrics) of each HTTP service, by name. */
  webOps?: Record<string, string>;
}

export interface StackService {
  /** host:port */
  grpc: string;
  /** Base URL of the ops port (/healthz, /readyz, /metrics). */
  ops: string;
  pid?: number;
}

/** Folder for the local stack's state: CONVEYOR_HOME, else <repo>/.conveyor. */
export function conveyorHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.CONVEYOR_HOME ? resolve(env.CONVEYOR_HOME) : join(repoRoot, '.conveyor');
}

export function stackFilePath(home = conveyorHome()): string {
  return join(home, 'stack.json');
}

/** Whether a process with this pid exists (signal 0 probes without signalling). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isStackFile(value: unknown): value is StackFile {
  if (typeof value !== 'object' || value === null) return false;
  const file = value as Partial<StackFile>;
  return typeof file.pid === 'number' && typeof file.services === 'object' && file.services !== null;
}

/** The parsed file; undefined when it does not exist. Throws when it is not a stack file. */
export async function readStackFile(path = stackFilePath()): Promise<StackFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not valid JSON`);
  }
  if (!isStackFile(parsed)) throw new Error(`${path} does not describe a stack (no pid or services)`);
  return parsed;
}

/** Creates the file only if it does not exist yet; false when it already exists. */
export async function createStackFile(path: string, content: StackFile): Promise<boolean> {
  try {
    const handle = await open(path, 'wx');
    try {
      await handle.writeFile(`${JSON.stringify(content, null, 2)}\n`);
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Replaces the file atomically (readers never see half of it). */
export async function writeStackFile(path: string, content: StackFile): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(content, null, 2)}\n`);
  await rename(temporary, path);
}

export async function removeStackFile(path: string): Promise<void> {
  await rm(path, { force: true });
}
