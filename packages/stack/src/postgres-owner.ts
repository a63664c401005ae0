import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The OS account Postgres runs as; undefined means "the current user". */
export interface PostgresOwner {
  uid: number;
  gid: number;
}

async function lookup(user: string): Promise<PostgresOwner | undefined> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', user]), run('id', ['-g', user])]);
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  } catch {
    return undefined;
  }
}

/**
 * Postgres refuses to run as root. As root, returns the `postgres` account (creating a
 * system user when it is missing); otherwise undefined.
 */
export async function postgresOwner(log: (line: string) => void): Promise<PostgresOwner | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const existing = await lookup('postgres');
  if (existing) return existing;
  log('running as root and no "postgres" user exists; creating the system user "postgres"');
  try {
    await run('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      'postgres',
    ]);
  } catch (error) {
    throw new Error('Postgres cannot run as root and the user "postgres" could not be created', {
      cause: error,
    });
  }
  const created = await lookup('postgres');
  if (!created) throw new Error('the user "postgres" was created but cannot be looked up');
  return created;
}

function canTraverse(mode: number, fileUid: number, fileGid: number, owner: PostgresOwner): boolean {
  if (fileUid === owner.uid) return (mode & 0o100) !== 0;
  if (fileGid === owner.gid) return (mode & 0o010) !== 0;
  return (mode & 0o001) !== 0;
}

/**
 * Makes sure `owner` can reach `dir` by adding the search bit (o+x, not read) to any
 * ancestor that would block it. Each change is logged.
 */
export async function ensureTraversable(dir: string, owner: PostgresOwner, log: (line: string) => void) {
  const ancestors: string[] = [];
  for (let current = dirname(dir); ; current = dirname(current)) {
    ancestors.unshift(current);
    if (dirname(current) === current) break;
  }
  for (const ancestor of ancestors) {
    const info = await stat(ancestor);
    if (canTraverse(info.mode, info.uid, info.gid, owner)) continue;
    log(`granting search permission (o+x) on ${ancestor} so the postgres user can reach ${dir}`);
    await chmod(ancestor, (info.mode & 0o7777) | 0o001);
  }
}

/** Creates the data folder (mode 0700) and hands it to `owner` when running as root. */
export async function prepareDataDir(
  dataDir: string,
  owner: PostgresOwner | undefined,
  log: (line: string) => void,
): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (!owner) return;
  await ensureTraversable(dataDir, owner, log);
  const info = await stat(dataDir);
  if (info.uid !== owner.uid) await chown(dataDir, owner.uid, owner.gid);
}
