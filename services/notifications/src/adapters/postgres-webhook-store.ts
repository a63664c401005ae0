import {
  alreadyExists,
  failedPrecondition,
  isUniqueViolation,
  type Pool,
  SqlFilter,
  withTransaction,
} from '@conveyor/platform';
import type { Webhook, WebhookStore } from '../app/webhook-store.ts';
import { bulkheadOf } from '../domain/delivery-decision.ts';
import type { WebhookSecretBox } from './webhook-secret-box.ts';

interface WebhookRow {
  id: string;
  user_id: string | null;
  url: string;
  created_at: Date;
}

const fromRow = (r: WebhookRow): Webhook => ({
  id: r.id,
  userId: r.user_id ?? undefined,
  url: r.url,
  createdAt: r.created_at,
});

export class PostgresWebhookStore implements WebhookStore {
  readonly #pool: Pool;
  readonly #box: WebhookSecretBox;

  /** Secrets are stored sealed by `box` (webhook-secret-box.ts). */
  constructor(pool: Pool, box: WebhookSecretBox) {
    this.#pool = pool;
    this.#box = box;
  }

  add(webhook: Webhook & { secret: string }, maxPerOwner: number): Promise<void> {
    const owner = webhook.userId ?? 'global';
    return withTransaction(this.#pool, async (tx) => {
      // Serialises registrations per owner, so the count check holds under concurrency.
      await tx.query(`select pg_advisory_xact_lock(hashtext('webhooks:' || $1))`, [owner]);
      const { rows } = await tx.query<{ n: number }>(
        'select count(*)::int as n from webhooks where user_id is not distinct from $1',
        [webhook.userId ?? null],
      );
      if ((rows[0]?.n ?? 0) >= maxPerOwner) {
        throw failedPrecondition(
          `${webhook.userId ? `user ${webhook.userId}` : 'global'} already has ${maxPerOwner} webhooks (the limit)`,
        );
      }
      try {
        await tx.query(
          'insert into webhooks (id, user_id, url, secret, created_at) values ($1, $2, $3, $4, $5)',
          [
            webhook.id,
            webhook.userId ?? null,
            webhook.url,
            this.#box.seal(webhook.secret, webhook.id),
            webhook.createdAt,
          ],
        );
      } catch (error) {
        if (isUniqueViolation(error, 'webhooks_owner_url')) {
          throw alreadyExists(`a ${webhook.userId ? "user's" : 'global'} webhook for ${webhook.url}`);
        }
        throw error;
      }
    });
  }

  async list(query: { userId?: string; limit: number; after?: { createdAt: Date; id: string } }) {
    const filter = new SqlFilter();
    if (query.userId) filter.and('user_id = ?', query.userId);
    if (query.after) filter.and('(created_at, id) > (?, ?)', query.after.createdAt, query.after.id);
    const { rows } = await this.#pool.query<WebhookRow>(
      `select id, user_id, url, created_at from webhooks ${filter.where}
       order by created_at, id limit ${filter.param(query.limit)}`,
      filter.params,
    );
    return rows.map(fromRow);
  }

  remove(id: string): Promise<{ cancelled: number } | undefined> {
    return withTransaction(this.#pool, async (tx) => {
      const deleted = await tx.query('delete from webhooks where id = $1', [id]);
      if (deleted.rowCount === 0) return undefined;
      // Its scheduled deliveries leave the schedule and are marked cancelled.
      const cancelled = await tx.query(
        `with q as (delete from delivery_queue where bulkhead = $1 returning notification_id)
         update notifications set status = 'cancelled', last_error = 'webhook deleted'
         where id in (select notification_id from q) and status = 'pending'`,
        [bulkheadOf('webhook', id)],
      );
      return { cancelled: cancelled.rowCount ?? 0 };
    });
  }
}
