import { type Pool, type PoolClient, recordInInbox, withTransaction } from '@conveyor/platform';
import type { Notification, NotificationStore, NotificationUnit } from '../app/ports.ts';
import type { Recipient } from '../domain/notification-plan.ts';

interface NotificationRow {
  id: string;
  user_id: string;
  event_id: string;
  event_type: string;
  channel: 'email';
  recipient: string;
  subject: string;
  body_text: string;
  body_html: string;
  status: Notification['status'];
  attempts: number;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
}

const columns =
  'id, user_id, event_id, event_type, channel, recipient, subject, body_text, body_html, status, attempts, last_error, created_at, sent_at';

const fromRow = (r: NotificationRow): Notification => ({
  id: r.id,
  userId: r.user_id,
  eventId: r.event_id,
  eventType: r.event_type,
  channel: r.channel,
  recipient: r.recipient,
  message: { subject: r.subject, text: r.body_text, html: r.body_html },
  status: r.status,
  attempts: r.attempts,
  lastError: r.last_error ?? undefined,
  createdAt: r.created_at,
  sentAt: r.sent_at ?? undefined,
});

/**
 * Another delivery of the same event holds some of its notifications right
 * now. It may still fail, so this delivery must not be acknowledged as done:
 * it is retried later and then finds them sent (or sends them).
 */
export class SendInProgress extends Error {
  override name = 'SendInProgress';
  constructor(eventId: string) {
    super(`another delivery of event ${eventId} is sending its notifications`);
  }
}

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

  async sendPending(
    eventId: string,
    send: (n: Notification) => Promise<void>,
    options: { now: () => Date; lastAttempt: boolean },
  ): Promise<void> {
    // The transaction commits what happened (sent, or the failed attempt);
    // the failure, if any, is rethrown after the commit.
    const failure = await withTransaction(this.#pool, async (tx) => {
      const { rows } = await tx.query<NotificationRow>(
        `select ${columns} from notifications where event_id = $1 and status = 'pending'
         order by channel for update skip locked`,
        [eventId],
      );
      const { rows: all } = await tx.query<{ n: number }>(
        `select count(*)::int as n from notifications where event_id = $1 and status = 'pending'`,
        [eventId],
      );
      for (const row of rows) {
        try {
          await send(fromRow(row));
        } catch (error) {
          await tx.query(
            `update notifications set attempts = attempts + 1, last_error = $2,
               status = case when $3 then 'failed' else status end
             where id = $1`,
            [row.id, String((error as Error)?.message ?? error).slice(0, 1000), options.lastAttempt],
          );
          return error;
        }
        await tx.query(
          `update notifications set status = 'sent', sent_at = $2, attempts = attempts + 1, last_error = null
           where id = $1`,
          [row.id, options.now()],
        );
      }
      return (all[0]?.n ?? 0) > rows.length ? new SendInProgress(eventId) : undefined;
    });
    if (failure) throw failure;
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
      // An erased user stays erased even if user.created is redelivered late.
      await tx.query(
        `insert into recipients (user_id, email, name) values ($1, $2, $3)
         on conflict (user_id) do update set email = excluded.email, name = excluded.name
         where recipients.erased_at is null`,
        [r.userId, r.email, r.name],
      );
    },
    async forgetRecipient(userId: string) {
      await tx.query(
        `insert into recipients (user_id, email, name, erased_at) values ($1, null, null, now())
         on conflict (user_id) do update set email = null, name = null, erased_at = now()`,
        [userId],
      );
      await tx.query(
        `update notifications set recipient = '[erased]', body_text = '[erased]', body_html = '[erased]'
         where user_id = $1`,
        [userId],
      );
    },
    async findRecipient(userId: string) {
      const { rows } = await tx.query<{ email: string | null; name: string | null }>(
        'select email, name from recipients where user_id = $1',
        [userId],
      );
      const row = rows[0];
      if (!row) return undefined;
      // Erased: known, but never contacted again.
      if (row.email === null) return 'erased';
      return { userId, email: row.email, name: row.name ?? '' };
    },
    async addNotification(n) {
      await tx.query(
        `insert into notifications (id, user_id, event_id, event_type, channel, recipient, subject, body_text, body_html, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) on conflict (event_id, channel) do nothing`,
        [
          n.id,
          n.userId,
          n.eventId,
          n.eventType,
          n.channel,
          n.recipient,
          n.message.subject,
          n.message.text,
          n.message.html,
          n.createdAt,
        ],
      );
    },
  };
}
