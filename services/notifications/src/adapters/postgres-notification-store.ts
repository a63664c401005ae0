import {
  type Pool,
  type PoolClient,
  type Queryable,
  recordManyInInbox,
  SqlFilter,
  withTransaction,
} from '@conveyor/platform';
import { traceparentOf } from '@conveyor/platform/telemetry';
import type { HandOff } from '../app/delivery-queue.ts';
import type {
  NewNotification,
  NotificationStore,
  NotificationUnit,
  WebhookTarget,
} from '../app/notification-store.ts';
import { bulkheadOf } from '../domain/delivery-decision.ts';
import type { Recipient } from '../domain/notification-plan.ts';
import { columns, fromRow, type NotificationRow } from './notification-rows.ts';

export class PostgresNotificationStore implements NotificationStore {
  readonly #pool: Pool;
  readonly #consumer: string;

  /** `consumer` names this service's inbox rows. */
  constructor(pool: Pool, consumer: string) {
    this.#pool = pool;
    this.#consumer = consumer;
  }

  async findContactsMany(userIds: readonly string[]) {
    return contactsOf(this.#pool, userIds, false);
  }

  async recordRun(run: {
    eventIds: readonly string[];
    notifications: readonly NewNotification[];
    handOff: HandOff | undefined;
  }): Promise<string[]> {
    if (run.eventIds.length === 0) return [];
    const { rows } = await this.#pool.query<{ notification_id: string }>({
      name: 'notifications-record-run',
      text: recordSql(
        `
        locked as (
          select user_id from recipients where user_id = any($18::uuid[]) and email is not null for share
        ), inbox as (
          insert into inbox (consumer, event_id) select $19, unnest($20::uuid[])
          on conflict do nothing returning event_id
        ),`,
        'where x.event_id in (select event_id from inbox) and x.user_id in (select user_id from locked)',
      ),
      values: [
        ...recordValues(run.notifications, run.handOff),
        [...new Set(run.notifications.map((n) => n.userId))],
        this.#consumer,
        run.eventIds,
      ],
    });
    return rows.map((r) => r.notification_id);
  }

  inTransaction(work: (unit: NotificationUnit) => Promise<void>): Promise<void> {
    return withTransaction(this.#pool, (tx) => work(transactionUnit(tx, this.#consumer)));
  }

  requeueFailed(which: { eventId: string } | { notificationId: string }): Promise<number> {
    // Failed → pending with a fresh budget, and due now; the attempts count keeps counting.
    const byEvent = 'eventId' in which;
    return withTransaction(this.#pool, async (tx) => {
      const { rows } = await tx.query<{
        id: string;
        channel: 'email' | 'webhook';
        webhook_id: string | null;
      }>(
        `update notifications set status = 'pending', failures = 0
         where ${byEvent ? 'event_id' : 'id'} = $1 and status = 'failed' returning id, channel, webhook_id`,
        [byEvent ? which.eventId : which.notificationId],
      );
      await tx.query(
        `insert into delivery_queue (notification_id, bulkhead, due_at)
         select id, bulkhead, now() from unnest($1::uuid[], $2::text[]) as r(id, bulkhead)
         on conflict (notification_id) do nothing`,
        [rows.map((r) => r.id), rows.map((r) => bulkheadOf(r.channel, r.webhook_id ?? undefined))],
      );
      return rows.length;
    });
  }

  async list(query: {
    userId?: string;
    ownDeliveriesOnly?: boolean;
    limit: number;
    after?: { createdAt: Date; id: string };
  }) {
    const filter = new SqlFilter();
    if (query.userId) filter.and('user_id = ?', query.userId);
    if (query.ownDeliveriesOnly) {
      filter.and(`(channel = 'email' or exists (select 1 from webhooks w
                    where w.id = notifications.webhook_id and w.user_id = notifications.user_id))`);
    }
    if (query.after) filter.and('(created_at, id) < (?, ?)', query.after.createdAt, query.after.id);
    const { rows } = await this.#pool.query<NotificationRow>(
      `select ${columns} from notifications ${filter.where}
       order by created_at desc, id desc limit ${filter.param(query.limit)}`,
      filter.params,
    );
    return rows.map(fromRow);
  }
}

/** The store's operations inside one transaction (`tx`): what `inTransaction` hands its work. */
function transactionUnit(tx: PoolClient, consumer: string): NotificationUnit {
  return {
    claimInbox: (eventIds) => recordManyInInbox(tx, consumer, eventIds),
    async saveRecipient(r: Recipient) {
      const inserted = await tx.query(
        `insert into recipients (user_id, email, name) values ($1, $2, $3) on conflict (user_id) do nothing`,
        [r.userId, r.email, r.name],
      );
      if (inserted.rowCount === 1) return 'saved';
      // Known already: an erased user stays erased, and stored details are never rewritten.
      const { rows } = await tx.query<{ email: string | null; name: string | null; erased: boolean }>(
        'select email, name, erased_at is not null as erased from recipients where user_id = $1 for share',
        [r.userId],
      );
      const known = rows[0];
      if (!known || known.erased) return 'erased';
      return known.email === r.email && known.name === r.name ? 'known' : 'conflict';
    },
    async forgetRecipient(userId: string) {
      await tx.query(
        `insert into recipients (user_id, email, name, erased_at) values ($1, null, null, now())
         on conflict (user_id) do update set email = null, name = null, erased_at = now()`,
        [userId],
      );
      // Their webhook URLs are contact details too.
      await tx.query('delete from webhooks where user_id = $1', [userId]);
      // Their pending deliveries leave the schedule; the rows below say they were cancelled.
      await tx.query(
        `delete from delivery_queue where notification_id in
           (select id from notifications where user_id = $1 and status = 'pending')`,
        [userId],
      );
      await tx.query(
        `update notifications set recipient = '[erased]', body_text = '[erased]', body_html = '[erased]',
           status = case when status = 'pending' then 'cancelled' else status end,
           last_error = case when status = 'pending' then 'user erased'
                             else regexp_replace(last_error, '[^[:space:]<>"''(),;:]+@[^[:space:]<>"''(),;:]+', '[address]', 'g') end
         where user_id = $1`,
        [userId],
      );
    },
    findContactsMany: (userIds) => contactsOf(tx, userIds, true),
    async findWebhooks(userId: string): Promise<WebhookTarget[]> {
      const { rows } = await tx.query<WebhookTarget>({
        name: 'notifications-find-webhooks',
        text: 'select id, url from webhooks where user_id = $1 or user_id is null order by created_at, id',
        values: [userId],
      });
      return rows;
    },
    async addNotifications(list: readonly NewNotification[], handOff?: HandOff) {
      if (list.length === 0) return [];
      // One round trip for every channel and target of the event: the notifications, and a
      // delivery due now for each one recorded (a duplicate records and schedules nothing).
      const { rows } = await tx.query<{ notification_id: string }>({
        name: 'notifications-add',
        text: recordSql(''),
        values: recordValues(list, handOff),
      });
      return rows.map((r) => r.notification_id);
    },
  };
}

/**
 * The users' contact details and webhooks (theirs and the global ones), in one round trip. With
 * `lock`, a share lock on each contact row orders this against a concurrent erasure (which updates
 * the row): either the erasure sees and blanks what the transaction records, or the transaction
 * sees the user erased.
 */
async function contactsOf(db: Queryable, userIds: readonly string[], lock: boolean) {
  const { rows } = await db.query<{
    user_id: string;
    email: string | null;
    name: string | null;
    webhooks: WebhookTarget[];
  }>({
    name: lock ? 'notifications-find-contacts-locked' : 'notifications-find-contacts',
    text: `select r.user_id::text, r.email, r.name,
       (select coalesce(json_agg(json_build_object('id', w.id, 'url', w.url) order by w.created_at, w.id), '[]')
        from webhooks w where w.user_id = r.user_id or w.user_id is null) as webhooks
     from recipients r where r.user_id = any($1::uuid[]) order by r.user_id${lock ? ' for share' : ''}`,
    values: [userIds],
  });
  return new Map(
    rows.map((row) => [
      row.user_id,
      // Erased: known, but never contacted again.
      row.email === null
        ? { recipient: 'erased' as const, webhooks: [] }
        : {
            recipient: { userId: row.user_id, email: row.email, name: row.name ?? '' },
            webhooks: row.webhooks,
          },
    ]),
  );
}

/**
 * Inserts notifications ($1–$12) and, for each one inserted (a duplicate of (event, channel,
 * target) is skipped), its delivery due now on its bulkhead ($13), in the handling's trace ($14),
 * already claimed when on the hand-off's bulkhead ($15–$17). `before` adds CTEs ahead of it,
 * `filter` a WHERE on the notifications inserted.
 */
function recordSql(before: string, filter = ''): string {
  return `with ${before} n as (
    insert into notifications (id, user_id, event_id, event_type, channel, target, webhook_id, recipient,
      subject, body_text, body_html, created_at)
    select * from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::uuid[],
      $8::text[], $9::text[], $10::text[], $11::text[], $12::timestamptz[])
      as x(id, user_id, event_id, event_type, channel, target, webhook_id, recipient, subject, body_text, body_html, created_at)
    ${filter}
    on conflict (event_id, channel, target) do nothing
    returning id
  )
  insert into delivery_queue (notification_id, bulkhead, due_at, traceparent, claimed_by, claimed_until)
  select n.id, b.bulkhead, now(), b.traceparent,
    case when b.bulkhead = $15 then $16 end,
    case when b.bulkhead = $15 then now() + $17 * interval '1 millisecond' end
  from n join unnest($1::uuid[], $13::text[], $14::text[]) as b(id, bulkhead, traceparent) on b.id = n.id
  returning notification_id`;
}

function recordValues(list: readonly NewNotification[], handOff: HandOff | undefined): unknown[] {
  // The handling's trace (its process span; a batch's links to each event's): sends join it.
  const traceparent = traceparentOf() ?? null;
  return [
    list.map((n) => n.id),
    list.map((n) => n.userId),
    list.map((n) => n.eventId),
    list.map((n) => n.eventType),
    list.map((n) => n.channel),
    list.map((n) => n.webhookId ?? ''),
    list.map((n) => n.webhookId ?? null),
    list.map((n) => n.recipient),
    list.map((n) => n.message.subject),
    list.map((n) => n.message.text),
    list.map((n) => n.message.html),
    list.map((n) => n.createdAt),
    list.map((n) => bulkheadOf(n.channel, n.webhookId)),
    list.map(() => traceparent),
    handOff?.bulkhead ?? null,
    handOff?.claim ?? null,
    handOff?.leaseMs ?? 0,
  ];
}
