import { type Pool, type PoolClient, recordInInbox, withTransaction } from '@conveyor/platform';
import type {
  ClaimedNotification,
  NewNotification,
  Notification,
  NotificationStore,
  NotificationUnit,
  WebhookTarget,
} from '../app/ports.ts';
import type { DeliveryDecision } from '../domain/delivery-decision.ts';
import type { Recipient } from '../domain/notification-plan.ts';

interface NotificationRow {
  id: string;
  user_id: string;
  event_id: string;
  event_type: string;
  channel: Notification['channel'];
  recipient: string;
  webhook_id: string | null;
  subject: string;
  body_text: string;
  body_html: string;
  status: Notification['status'];
  attempts: number;
  failures: number;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
  last_attempt_at: Date | null;
}

const columns =
  'id, user_id, event_id, event_type, channel, recipient, webhook_id, subject, body_text, body_html, status, attempts, failures, last_error, created_at, sent_at, last_attempt_at';

const fromRow = (r: NotificationRow): Notification => ({
  id: r.id,
  userId: r.user_id,
  eventId: r.event_id,
  eventType: r.event_type,
  channel: r.channel,
  recipient: r.recipient,
  webhookId: r.webhook_id ?? undefined,
  message: { subject: r.subject, text: r.body_text, html: r.body_html },
  status: r.status,
  attempts: r.attempts,
  failures: r.failures,
  lastError: r.last_error ?? undefined,
  createdAt: r.created_at,
  sentAt: r.sent_at ?? undefined,
  lastAttemptAt: r.last_attempt_at ?? undefined,
});

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

  async deliveryState(eventId: string): Promise<{ pending: string[]; failed: Notification[] }> {
    const { rows } = await this.#pool.query<NotificationRow>({
      name: 'notifications-delivery-state',
      text: `select ${columns} from notifications where event_id = $1 and status in ('pending', 'failed')
       order by channel, target`,
      values: [eventId],
    });
    return {
      pending: rows.filter((r) => r.status === 'pending').map((r) => r.id),
      failed: rows.filter((r) => r.status === 'failed').map(fromRow),
    };
  }

  async deliverOne(
    id: string,
    deliver: (claimed: ClaimedNotification) => Promise<DeliveryDecision>,
    now: () => Date,
  ): Promise<'applied' | 'busy' | 'settled'> {
    return withTransaction(this.#pool, async (tx) => {
      const { rows } = await tx.query<NotificationRow>({
        name: 'notifications-claim',
        text: `select ${columns} from notifications where id = $1 and status = 'pending' for update skip locked`,
        values: [id],
      });
      const row = rows[0];
      if (!row) {
        const { rows: still } = await tx.query(
          `select 1 from notifications where id = $1 and status = 'pending'`,
          [id],
        );
        return still.length > 0 ? 'busy' : 'settled';
      }
      let webhook: ClaimedNotification['webhook'];
      if (row.channel === 'webhook' && row.webhook_id) {
        const { rows: hooks } = await tx.query<{ url: string; secret: string }>(
          'select url, secret from webhooks where id = $1',
          [row.webhook_id],
        );
        webhook = hooks[0];
      }
      const decision = await deliver({ notification: fromRow(row), webhook });
      const at = now();
      await tx.query({
        name: 'notifications-settle',
        text: `update notifications set
           status = $2,
           attempts = attempts + $3,
           failures = failures + $4,
           last_error = case when $5::boolean then $6 else last_error end,
           last_attempt_at = case when $3 > 0 then $7 else last_attempt_at end,
           sent_at = case when $2 = 'sent' then $7 else sent_at end
         where id = $1`,
        values: [
          id,
          decision.status,
          decision.attempted ? 1 : 0,
          decision.counted ? 1 : 0,
          decision.lastError !== undefined,
          decision.lastError === undefined || decision.lastError === null
            ? null
            : decision.lastError.slice(0, 1000),
          at,
        ],
      });
      return 'applied';
    });
  }

  async resetFailed(eventId: string): Promise<number> {
    const result = await this.#pool.query(
      `update notifications set status = 'pending', failures = 0 where event_id = $1 and status = 'failed'`,
      [eventId],
    );
    return result.rowCount ?? 0;
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
    async addNotification(n: NewNotification) {
      const result = await tx.query({
        name: 'notifications-add',
        text: `insert into notifications (id, user_id, event_id, event_type, channel, target, webhook_id, recipient,
           subject, body_text, body_html, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         on conflict (event_id, channel, target) do nothing`,
        values: [
          n.id,
          n.userId,
          n.eventId,
          n.eventType,
          n.channel,
          n.webhookId ?? '',
          n.webhookId ?? null,
          n.recipient,
          n.message.subject,
          n.message.text,
          n.message.html,
          n.createdAt,
        ],
      });
      return result.rowCount === 1;
    },
  };
}
