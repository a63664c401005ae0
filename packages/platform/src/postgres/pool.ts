import pg from 'pg';
import { traceQueries } from './query-tracing.ts';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
/** Anything that runs a query: a pool or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'>;

/**
 * A pool whose connections see only the service's own schema first
 * (database per service; one server, separate schemas, locally).
 * Every statement has a timeout, so no query can hang a request forever.
 * Queries made inside a traced operation are spans (query-tracing.ts).
 */
export function createPool(options: {
  url: string;
  schema: string;
  max?: number;
  applicationName: string;
  statementTimeoutMs?: number;
}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    application_name: options.applicationName,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    statement_timeout: options.statementTimeoutMs ?? 15_000,
    options: `-c search_path=${options.schema},public`,
  });
  // An idle client that loses its connection emits here; without a listener
  // the process would crash. The pool replaces it on the next checkout.
  pool.on('error', () => {});
  // Every connection's queries are spans when run inside a traced operation.
  traceQueries(pool);
  pool.on('connect', (client) => {
    traceQueries(client);
    // pg-pool drops its own error listener while a client is checked out, so
    // a connection lost mid-query (Postgres restarting) would crash the
    // process. The failed query rejects anyway; the broken client is
    // discarded on release.
    client.on('error', () => {});
  });
  return pool;
}

/** Runs `work` in one transaction; rolls back on any error. */
export async function withTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: string; constraint?: string };
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

export async function pingPostgres(pool: pg.Pool): Promise<boolean> {
  await pool.query('select 1');
  return true;
}
