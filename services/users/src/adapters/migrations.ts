import { type Migration, messagingTablesSql, type ServiceRoleGrants } from '@conveyor/platform';

/** users' own role (ADR 0026): its event log only appended. */
export const roleGrants: Omit<ServiceRoleGrants, 'role'> = { appendOnly: ['event_log'] };

export const migrations: Migration[] = [
  {
    name: '0001_users',
    sql: `
      create table users (
        id uuid primary key,
        email text not null,
        name text not null,
        created_at timestamptz not null
      );
      create unique index users_email_key on users (email);
    `,
  },
  { name: '0002_outbox', sql: messagingTablesSql.outbox },
  { name: '0003_outbox_wake_after_commit', sql: messagingTablesSql.dropOutboxTrigger },
  {
    // Erased users stay as tombstones (id, created_at, erased_at) with email,
    // name and password hash null; null emails never collide in the unique index.
    name: '0004_credentials_keys_erasure',
    sql: `
      alter table users alter column email drop not null;
      alter table users alter column name drop not null;
      alter table users add column role text not null default 'customer'
        check (role in ('customer', 'admin'));
      alter table users add column password_hash text;
      alter table users add column erased_at timestamptz;
      alter table users add constraint users_erased_has_no_personal_data
        check (erased_at is null or (email is null and name is null and password_hash is null));
      create table user_keys (
        user_id uuid primary key references users (id),
        data_key bytea not null check (octet_length(data_key) = 32)
      );
      create table sign_in_failures (
        account text primary key,
        failures integer not null,
        last_failure_at timestamptz not null,
        locked_until timestamptz
      );
      create table signing_keys (
        name text primary key,
        key_id text not null,
        private_key_pem text not null
      );
    `,
  },
  {
    // Pruning finds forgettable rows (quiet for a whole window, not locked) by their last failure.
    name: '0005_sign_in_failures_by_last_failure',
    sql: 'create index sign_in_failures_by_last_failure on sign_in_failures (last_failure_at)',
  },
  {
    // When the owner was last told of a sign-up with their address (at most one mail an hour).
    name: '0006_users_signup_attempt_announced_at',
    sql: 'alter table users add column signup_attempt_announced_at timestamptz',
  },
  {
    // Revocation (issue 21): a token carries the generation it was issued under; sign-out and role
    // changes move it on, and VerifyToken refuses tokens of an older one.
    name: '0007_users_token_generation',
    sql: 'alter table users add column token_generation integer not null default 0',
  },
  {
    // One reset code per user, stored as its SHA-256 only: a new request replaces it, using it marks
    // it used (the row stays, so the one-mail-a-minute gap holds after a use too).
    name: '0008_password_resets',
    sql: `
      create table password_resets (
        user_id uuid primary key references users (id),
        token_hash bytea not null unique,
        expires_at timestamptz not null,
        requested_at timestamptz not null,
        used_at timestamptz
      )
    `,
  },
  {
    // users has no event store: its published events are kept in order here (issue 23), so a
    // lost stream can be refilled from Postgres (RepublishEvents). Starts with what the outbox holds.
    name: '0009_event_log',
    sql: messagingTablesSql.eventLog,
  },
];
