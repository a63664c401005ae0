import { type Pool, type PoolClient, recordInInbox, withTransaction } from '@conveyor/platform';
import { traceparentOf } from '@conveyor/platform/telemetry';
import type { NewNotification, NotificationStore, NotificationUnit, WebhookTarget } from '../app/ports.ts';
import { bulkheadOf } from '../domain/delivery-decision.ts';
import type { Recipient } from '../domain/notification-plan.ts';
import { columns, fromRow, type NotificationRow } from './notification-rows.ts';

export class PostgresNotificationStore implements NotificationStore {
  readonly #pool: Pool;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  handleOnce(
    consumer: string,
    eventId: string,
    work: (unit: NotificationUnit) => Promise<void>,
  ): Promise<boolean> {
    return withTransaction(this.#pool, async (tx) => {
      if (!(await recordInInbox(tx, consumer, eventId))) return false;
      await work(unitOf(tx));
      return true;
    });
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

  async list(query: { userId?: string; limit: number; after?: { createdAt: Date; id: string } }) {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.userId) {
      params.push(query.userId);
      where.push(`user_id = $${params.length}`);
    }
    if (query.after) {
      params.push(query.after.createdAt, query.after.id);
      where.push(`(created_at, id) < ($${params.length - 1}, $${params.length})`);
    }
    params.push(query.limit);
    const { rows } = await this.#pool.query<NotificationRow>(
      `select ${columns} from notifications ${where.length ? `where ${where.join(' and ')}` : ''}
       order by created_at desc, id desc limit $${params.length}`,
      params,
    );
    return rows.map(fromRow);
  }
}

function unitOf(tx: PoolClient): NotificationUnit {
  return {
    async saveRecipient(r: Recipient) {
      // An erased user stays erased even if user.created is redelivered late:
      // the conditional update then touches no row (but still locks it).
      const result = await tx.query(
        `insert into recipients (user_id, email, name) values ($1, $2, $3)
         on conflict (user_id) do update set email = excluded.email, name = excluded.name
         where recipients.erased_at is null`,
        [r.userId, r.email, r.name],
      );
      return result.rowCount === 1;
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
           last_error = case when status = 'pending' then 'user erased' else last_error end
         where user_id = $1`,
        [userId],
      );
    },
    async findContacts(userId: string) {
      // One round trip for both. The share lock orders this against a
      // concurrent erasure (which updates the row): either the erasure sees
      // and blanks what this transaction records, or this transaction sees
      // the user erased.
      const { rows } = await tx.query<{
        email: string | null;
        name: string | null;
        webhooks: WebhookTarget[];
      }>({
        name: 'notifications-find-contacts',
        text: `select email, name,
           (select coalesce(json_agg(json_build_object('id', w.id, 'url', w.url) order by w.created_at, w.id), '[]')
            from webhooks w where w.user_id = $1 or w.user_id is null) as webhooks
         from recipients where user_id = $1 for share`,
        values: [userId],
      });
      const row = rows[0];
      if (!row) return { recipient: undefined, webhooks: [] };
      // Erased: known, but never contacted again.
      if (row.email === null) return { recipient: 'erased' as const, webhooks: [] };
      return { recipient: { userId, email: row.email, name: row.name ?? '' }, webhooks: row.webhooks };
    },
    async findWebhooks(userId: string): Promise<WebhookTarget[]> {
      const { rows } = await tx.query<WebhookTarget>({
        name: 'notifications-find-webhooks',
        text: 'select id, url from webhooks where user_id = $1 or user_id is null order by created_at, id',
        values: [userId],
      });
      return rows;
    },
    async addNotifications(list: readonly NewNotification[]) {
      if (list.length === 0) return [];
      // One round trip for every channel and target of the event: the notifications, and a
      // delivery due now for each one recorded (a duplicate records and schedules nothing).
      const { rows } = await tx.query<{ notification_id: string }>({
        name: 'notifications-add',
        text: `with n as (
           insert into notifications (id, user_id, event_id, event_type, channel, target, webhook_id, recipient,
             subject, body_text, body_html, created_at)
           select * from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::uuid[],
             $8::text[], $9::text[], $10::text[], $11::text[], $12::timestamptz[])
           on conflict (event_id, channel, target) do nothing
           returning id
         )
         insert into delivery_queue (notification_id, bulkhead, due_at, traceparent)
         select n.id, b.bulkhead, now(), $14 from n join unnest($1::uuid[], $13::text[]) as b(id, bulkhead) on b.id = n.id
         returning notification_id`,
        values: [
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
          // The handling's trace (the consumer's process span): the send joins it later.
          traceparentOf() ?? null,
        ],
      });
      return rows.map((r) => r.notification_id);
    },
  };
}
