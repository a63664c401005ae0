import pg from 'pg';

export interface Migration {
  name: string;
  sql: string;
}

/**
 * What the service's own role may do in its schema (ADR 0026). By default: use the schema and
 * read and write the rows of every table (present and future), nothing else. `appendOnly`
 * tables take no UPDATE or DELETE (the event store); `owned` tables are given to the role,
 * which rebuilds or vacuums them (only an owner may in Postgres 15).
 */
export interface ServiceRoleGrants {
  role: string;
  appendOnly?: readonly string[];
  owned?: readonly string[];
}

/**
 * Applies pending migrations to one schema, each in its own transaction.
 * A transaction-scoped advisory lock serialises replicas that start at once;
 * applied migrations are recorded and never run twice. With `serviceRole`, the
 * service's role then gets exactly its grants on this schema (again each time:
 * idempotent), and start-up is refused if the role does not exist.
 */
export async function migrate(options: {
  url: string;
  schema: string;
  migrations: readonly Migration[];
  serviceRole?: ServiceRoleGrants | undefined;
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
    if (options.serviceRole) await grantServiceRole(client, schema, options.serviceRole);
  } finally {
    await client.end();
  }
  return applied;
}

async function grantServiceRole(client: pg.Client, schema: string, grants: ServiceRoleGrants): Promise<void> {
  const { rows } = await client.query('select 1 from pg_roles where rolname = $1', [grants.role]);
  if (rows.length === 0) {
    throw new Error(
      `database role ${grants.role} does not exist: create it before migrating ${schema} ` +
        "(CloudNativePG managed roles, compose's init script, or the system builder do; ADR 0026)",
    );
  }
  const role = quoteIdent(grants.role);
  const statements = [
    'begin',
    `grant usage on schema ${schema} to ${role}`,
    `grant select, insert, update, delete on all tables in schema ${schema} to ${role}`,
    `grant usage, select on all sequences in schema ${schema} to ${role}`,
    `alter default privileges in schema ${schema} grant select, insert, update, delete on tables to ${role}`,
    `alter default privileges in schema ${schema} grant usage, select on sequences to ${role}`,
    // Which migrations ran is the migrator's record.
    `revoke insert, update, delete, truncate on ${schema}.schema_migrations from ${role}`,
    ...(grants.appendOnly ?? []).map((t) => `revoke update, delete, truncate on ${schema}.${t} from ${role}`),
    // An owned table is rebuilt beside itself (a shadow table, then a swap): it needs to create.
    ...((grants.owned ?? []).length > 0 ? [`grant create on schema ${schema} to ${role}`] : []),
    ...(grants.owned ?? []).map((t) => `alter table ${schema}.${t} owner to ${role}`),
    'commit',
  ];
  try {
    for (const statement of statements) await client.query(statement);
  } catch (error) {
    await client.query('rollback');
    throw new Error(`granting ${schema} to ${grants.role} failed: ${(error as Error).message}`);
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
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
  /**
   * A service's published events kept in order (issue 23), for a service without an event store:
   * every row written to the outbox is copied here by a trigger and never changed, so the relay may
   * delete outbox rows after the PubAck and the events can still be published again from Postgres.
   */
  eventLog: `
    create table event_log (
      position bigint generated always as identity primary key,
      event_id uuid not null unique,
      subject text not null,
      headers jsonb not null,
      payload bytea not null,
      created_at timestamptz not null
    );
    insert into event_log (event_id, subject, headers, payload, created_at)
      select event_id, subject, headers, payload, created_at from outbox order by position;
    create function outbox_to_event_log() returns trigger language plpgsql as $$
    begin
      insert into event_log (event_id, subject, headers, payload, created_at)
        select event_id, subject, headers, payload, created_at from new_rows order by position
        on conflict (event_id) do nothing;
      return null;
    end $$;
    create trigger outbox_to_event_log after insert on outbox
      referencing new table as new_rows for each statement execute function outbox_to_event_log();
  `,
  /** Sequenced dead letters (ADR 0031): a failing head per key and the messages parked behind it. */
  parkedMessages: `
    create table parked_messages (
      id bigint generated always as identity primary key,
      consumer text not null,
      sequence_key text not null,
      state text not null check (state in ('retrying', 'dead', 'parked')),
      stream text not null,
      stream_sequence bigint not null,
      subject text not null,
      headers jsonb not null,
      payload bytea not null,
      reason text not null default '',
      deliveries integer not null default 0,
      attempts integer,
      dead_letter_seq bigint,
      parked_at timestamptz not null default now(),
      unique (consumer, stream, stream_sequence)
    );
    create index parked_messages_sequence on parked_messages (consumer, sequence_key, stream_sequence, id);
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
