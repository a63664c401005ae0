import { execFile, execFileSync } from 'node:child_process';
import { mkdir, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A size-limited tmpfs of its own for one store (NATS's, Postgres's WAL), so an experiment can
 * fill it: a filler file takes all but a little of the free space, and deleting it frees it again.
 */
export interface SmallDisk {
  readonly path: string;
  /** Takes all the free space but `leaveBytes` with a filler file; answers the filler's size. */
  fill(leaveBytes: number): Promise<number>;
  /** Deletes the filler. */
  drain(): Promise<void>;
  unmount(): Promise<void>;
}

/**
 * Mounts a tmpfs of `sizeMiB` at `path` (root only). Undefined, with the reason logged, where the
 * machine does not let us: the experiments that need one then say so.
 */
export async function mountSmallDisk(
  path: string,
  sizeMiB: number,
  log: (line: string) => void,
): Promise<SmallDisk | undefined> {
  await mkdir(path, { recursive: true });
  if (process.getuid?.() !== 0) {
    log(`${path}: not root, so no tmpfs of its own (the disk-full experiments cannot run)`);
    return undefined;
  }
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0755`, 'tmpfs', path]);
  } catch (error) {
    log(
      `${path}: mounting a tmpfs failed (${(error as Error).message.trim()}); the disk-full experiments cannot run`,
    );
    return undefined;
  }
  // A run that exits without its cleanups (its watchdog) leaves no mount behind either.
  const onExit = () => {
    try {
      execFileSync('umount', ['--lazy', path], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  };
  process.once('exit', onExit);
  const filler = join(path, 'chaos-filler');
  const freeBytes = async () => {
    const s = await statfs(path);
    return s.bavail * s.bsize;
  };
  return {
    path,
    async fill(leaveBytes) {
      const size = Math.max(0, (await freeBytes()) - leaveBytes);
      await run('fallocate', ['-l', String(size), filler]);
      return size;
    },
    drain: () => rm(filler, { force: true }),
    async unmount() {
      process.off('exit', onExit);
      // Lazy: a process that still holds a file there (one being killed) does not keep it mounted.
      await run('umount', ['--lazy', path]);
    },
  };
}

/** NATS's store (256 MiB) and Postgres's WAL (256 MiB) on tmpfs mounts of their own, when asked. */
export async function storeDisks(dir: string, wanted: boolean, log: (line: string) => void) {
  if (!wanted) return { nats: undefined, postgresWal: undefined };
  const nats = await mountSmallDisk(join(dir, 'nats'), 256, log);
  const postgresWal = nats && (await mountSmallDisk(join(dir, 'pg-wal'), 256, log));
  return { nats, postgresWal };
}
