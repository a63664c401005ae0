import { type Migration, messagingTablesSql } from '@conveyor/platform';

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
];
