import pg from 'pg';
import { startEmbeddedPostgres } from './postgres-embedded.ts';
import { probePostgres } from './postgres-probe.ts';

export {
  type EmbeddedPostgres,
  type EmbeddedPostgresOptions,
  startEmbeddedPostgres,
} from './postgres-embedded.ts';
export { probePostgres } from './postgres-probe.ts';

export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface EnsurePostgresOptions {
  url?: string;
  dataDir: string;
  port: number;
  log: (line: string) => void;
}

export interface EnsuredPostgres {
  url: string;
  /** True when this call started the embedded server (stop() then stops it). */
  started: boolean;
  stop(): Promise<void>;
}

/**
 * Uses the server at `url` (default postgres://postgres@127.0.0.1:5432/postgres) when it
 * answers; otherwise starts the embedded server on `port` with `dataDir`. An embedded
 * server already answering on `port` (e.g. left from an earlier run) is reused.
 */
export async function ensurePostgres(opts: EnsurePostgresOptions): Promise<EnsuredPostgres> {
  const url = opts.url ?? DEFAULT_POSTGRES_URL;
  const noop = async (): Promise<void> => {};
  if (await probePostgres(url)) {
    opts.log(`using PostgreSQL at ${redact(url)}`);
    return { url, started: false, stop: noop };
  }
  const ownUrl = `postgres://postgres:postgres@127.0.0.1:${opts.port}/postgres`;
  opts.log(
    `PostgreSQL at ${redact(url)} is not reachable; starting embedded Postgres on 127.0.0.1:${opts.port}`,
  );
  if (ownUrl !== url && (await probePostgres(ownUrl))) {
    opts.log(`embedded Postgres is already running on 127.0.0.1:${opts.port}; using it`);
    return { url: ownUrl, started: false, stop: noop };
  }
  const server = await startEmbeddedPostgres({
    dataDir: opts.dataDir,
    port: opts.port,
    log: (line) => opts.log(`postgres | ${line}`),
  });
  opts.log(`embedded Postgres ready at ${redact(server.url)} (data ${opts.dataDir})`);
  return { url: server.url, started: true, stop: () => server.stop() };
}

/** `url` with the password replaced by `***`, for logs. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** `url` pointing at database `name` instead. */
export function databaseUrl(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(name)}`;
  return parsed.toString();
}

async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Creates database `name` unless it exists; returns `adminUrl` pointed at it. */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  await withAdmin(adminUrl, async (client) => {
    const existing = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (existing.rowCount) return;
    try {
      await client.query(`create database ${client.escapeIdentifier(name)}`);
    } catch (error) {
      // 42P04 duplicate_database, 23505: a concurrent create won the race
      const code = (error as { code?: string }).code;
      if (code !== '42P04' && code !== '23505') throw error;
    }
  });
  return databaseUrl(adminUrl, name);
}

/**
 * Drops database `name` if it exists, disconnecting its sessions (WITH (FORCE)). Sessions already
 * leaving get up to `graceMs` first: node-pg's `pool.end()` resolves before its connections have
 * closed, and a session forced off meanwhile reaches the client as an error with nobody listening
 * (an uncaught exception in the test that just ended its pool).
 */
export async function dropDatabase(adminUrl: string, name: string, graceMs = 1000): Promise<void> {
  await withAdmin(adminUrl, async (client) => {
    const deadline = Date.now() + graceMs;
    for (;;) {
      const { rows } = await client.query<{ n: number }>(
        'select count(*)::int as n from pg_stat_activity where datname = $1',
        [name],
      );
      if (rows[0]!.n === 0 || Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await client.query(`drop database if exists ${client.escapeIdentifier(name)} with (force)`);
  });
}
