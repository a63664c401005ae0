import { testDatabase } from '@conveyor/stack/testing';
import pg from 'pg';
import { migrate } from '../postgres/migrate.ts';

export interface SchemaFixture {
  url: string;
  /** Connections on the fixture's schema. */
  pool: pg.Pool;
  /** Ends the pool and drops the database. */
  stop(): Promise<void>;
}

/**
 * A throwaway database with `tables` (migration name → SQL, applied in that order) in `schema`, and a
 * pool on that schema: what the Postgres tests of one building block of the platform share.
 */
export async function schemaFixture(opts: {
  name: string;
  schema: string;
  tables: Record<string, string>;
  poolMax?: number;
}): Promise<SchemaFixture> {
  const db = await testDatabase(opts.name);
  const migrations = Object.entries(opts.tables).map(([name, sql]) => ({ name, sql }));
  await migrate({ url: db.url, schema: opts.schema, migrations });
  const pool = new pg.Pool({
    connectionString: db.url,
    options: `-c search_path=${opts.schema}`,
    max: opts.poolMax,
  });
  return {
    url: db.url,
    pool,
    async stop() {
      await pool.end();
      await db.drop();
    },
  };
}
