import { readFile } from 'node:fs/promises';
import { displayPath, type Progress } from './progress.ts';
import { createStackFile, isAlive, readStackFile, removeStackFile, type StackFile } from './stack-file.ts';

/**
 * Whether `pid` is a running launcher. Pids get reused, so on Linux the command line is
 * checked too; elsewhere a live pid is trusted.
 */
async function isLauncher(pid: number): Promise<boolean> {
  if (!isAlive(pid)) return false;
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('up.ts');
  } catch {
    return true;
  }
}

function leftovers(stale: StackFile): string[] {
  return Object.entries(stale.services)
    .filter(([, service]) => service.pid !== undefined && isAlive(service.pid))
    .map(([name, service]) => `${name} (pid ${service.pid})`);
}

/**
 * Creates the stack file as a lock. Refuses (undefined, after saying why) while another
 * live launcher owns it; a stale file from a launcher that is gone is replaced.
 */
export async function claimStackFile(path: string, progress: Progress): Promise<string | undefined> {
  const mine: StackFile = {
    startedAt: new Date().toISOString(),
    pid: process.pid,
    status: 'starting',
    services: {},
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await createStackFile(path, mine)) return path;
    let existing: StackFile | undefined;
    try {
      existing = await readStackFile(path);
    } catch (error) {
      progress.step('stack', `replacing an unreadable ${displayPath(path)}: ${(error as Error).message}`);
      await removeStackFile(path);
      continue;
    }
    if (!existing) continue;
    if (await isLauncher(existing.pid)) {
      progress.error(
        `a Conveyor stack is already running (pid ${existing.pid}, started ${existing.startedAt}; ` +
          `${displayPath(path)}). Stop it with Ctrl-C in its terminal or: kill ${existing.pid}`,
      );
      return undefined;
    }
    progress.step(
      'stack',
      `an earlier stack (pid ${existing.pid}) did not stop cleanly; replacing ${displayPath(path)}`,
    );
    const left = leftovers(existing);
    if (left.length > 0)
      progress.step('stack', `still running from it: ${left.join(', ')}; their ports may be taken`);
    await removeStackFile(path);
  }
  progress.error(`could not create ${displayPath(path)}`);
  return undefined;
}

/** Removes the stack file if this process owns it. */
export async function releaseStackFile(path: string): Promise<void> {
  const current = await readStackFile(path).catch(() => undefined);
  if (current?.pid === process.pid) await removeStackFile(path);
}
