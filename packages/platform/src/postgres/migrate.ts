import pg from 'pg';

export interface Migration {
  name: string;
  sql: string;
}

/**
 * Applies pending migrations to one schema, each in its own transaction.
 * A transaction-scoped advisory lock serialises replicas that start at once;
 * applied migrations are recorded and never run twice.
 */
export async function migrate(options: {
  url: string;
  schema: string;
  migrations: readonly Migration[];
  log?: (message: string) => void;
}): Promise<string[]> {
  const { schema } = options;
  const client = new pg.Client({ connectionString: options.url, application_name: `${schema}-migrate` });
  await client.connect();
  const applied: string[] = [];
  try {
    await client.query('select pg_advisory_lock(hashtext($1))', [`conveyor.migrate.${schema}`]);
    await client.query(`create schema if not exists ${schema}`);
    await client.query(`set search_path to ${schema}, public`);
    await client.query(
      'create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())',
    );
    const done = new Set(
      (await client.query<{ name: string }>('select name from schema_migrations')).rows.map((r) => r.name),
    );
    for (const migration of options.migrations) {
      if (done.has(migration.name)) continue;
      await client.query('begin');
      try {
        await client.query(migration.sql);
        await client.query('insert into schema_migrations (name) values ($1)', [migration.name]);
        await client.query('commit');
      } catch (error) {
        await client.query('rollback');
        throw new Error(`migration ${schema}/${migration.name} failed: ${(error as Error).message}`);
      }
      applied.push(migration.name);
      options.log?.(`applied ${schema}/${migration.name}`);
    }
  } finally {
    await client.end();
  }
  return applied;
}

/** SQL every service with an outbox or an inbox includes in its migrations. */
export const messagingTablesSql = {
  outbox: `
    create table outbox (
      position bigint generated always as identity primary key,
      event_id uuid not null unique,
      subject text not null,
      headers jsonb not null,
      payload bytea not null,
      created_at timestamptz not null default now()
    );
    create function outbox_notify() returns trigger language plpgsql as $$
    begin
      perform pg_notify(tg_table_schema || '_outbox', '');
      return null;
    end $$;
    create trigger outbox_notify after insert on outbox
      for each statement execute function outbox_notify();
  `,
  /**
   * Writers wake the relay after commit (OutboxRelay.signalCommitted); a
   * NOTIFY inside every writing transaction serialised commits.
   */
  dropOutboxTrigger: `
    drop trigger if exists outbox_notify on outbox;
    drop function if exists outbox_notify();
  `,
  inbox: `
    create table inbox (
      consumer text not null,
      event_id uuid not null,
      processed_at timestamptz not null default now(),
      primary key (consumer, event_id)
    );
  `,
};
