import { type Migration, messagingTablesSql } from '@conveyor/platform';

export const migrations: Migration[] = [
  { name: '0001_inbox', sql: messagingTablesSql.inbox },
  {
    name: '0002_notifications',
    sql: `
      -- Contact details copied from user.created; erased on user.erased.
      create table recipients (
        user_id uuid primary key,
        email text,
        name text,
        erased_at timestamptz
      );
      create table notifications (
        id uuid primary key,
        event_id uuid not null,
        event_type text not null,
        user_id uuid not null,
        channel text not null,
        recipient text not null,
        subject text not null,
        body_text text not null,
        body_html text not null,
        status text not null default 'pending' check (status in ('pending', 'sent', 'failed')),
        attempts integer not null default 0,
        last_error text,
        created_at timestamptz not null,
        sent_at timestamptz,
        unique (event_id, channel)
      );
      create index notifications_user_created on notifications (user_id, created_at desc, id desc);
      create index notifications_created on notifications (created_at desc, id desc);
    `,
  },
];
