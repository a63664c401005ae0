import type { Queryable } from '@conveyor/platform';
import type { ClaimedDelivery, ClaimRequest, DeliveryQueue, Settlement } from '../app/delivery-queue.ts';
import { fromRow, type NotificationRow, notificationColumns } from './notification-rows.ts';
import { WebhookSecretBox } from './webhook-secret-box.ts';

/** The schedule: one row per pending delivery (migration 0004). */
export const deliveryQueueSql = `
  create table delivery_queue (
    notification_id uuid primary key references notifications (id),
    -- 'smtp', or 'webhook:<webhook id>': the unit of breakers, concurrency and claims.
    bulkhead text not null,
    due_at timestamptz not null,
    -- A claim: its token and when its lease ends (then the row is due again).
    claimed_by text,
    claimed_until timestamptz,
    -- The trace of the handling that recorded it: the send continues it.
    traceparent text
  ) with (fillfactor = 70);
  create index delivery_queue_due on delivery_queue (bulkhead, due_at);
`;

/*
 * One statement: list the bulkheads that have rows (a skip scan of delivery_queue_due, one index
 * probe per bulkhead, however many rows each has), then take each one's oldest due, unclaimed rows
 * up to its limit, lock them (skipping rows another claimer is taking), and lease them. A bulkhead
 * with limit 0 (open breaker, enough in hand) costs one probe: its backlog is never scanned.
 */
const claimSql = `
  with recursive heads(bulkhead) as (
    (select bulkhead from delivery_queue order by bulkhead limit 1)
    union all
    select (select q.bulkhead from delivery_queue q where q.bulkhead > h.bulkhead order by q.bulkhead limit 1)
    from heads h where h.bulkhead is not null
  ), picked as (
    select x.notification_id from heads h
    cross join lateral (
      select q.notification_id from delivery_queue q
      where q.bulkhead = h.bulkhead and q.due_at <= now()
        and (q.claimed_until is null or q.claimed_until <= now())
      order by q.due_at
      limit coalesce(($2::jsonb ->> h.bulkhead)::int, $3::int)
      for update skip locked
    ) x
    where h.bulkhead is not null
    limit $4
  ), claimed as (
    update delivery_queue q set claimed_by = $1, claimed_until = now() + $5 * interval '1 millisecond'
    from picked where q.notification_id = picked.notification_id
    returning q.notification_id, q.bulkhead, q.traceparent
  )
  select c.bulkhead, c.traceparent, ${notificationColumns.map((c) => `n.${c}`).join(', ')}, w.url as webhook_url, w.secret as webhook_secret
  from claimed c join notifications n on n.id = c.notification_id
  left join webhooks w on w.id = n.webhook_id`;

/*
 * One statement for a group of outcomes. The queue row is changed first and only where the claim
 * still holds it (the fence; rechecked on the newest row version if another claim raced in); the
 * notification changes only for rows that passed, and only when something about it changed.
 */
const settleSql = `
  with o as (
    select * from unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::int[], $6::boolean[], $7::text[],
                         $8::timestamptz[], $9::timestamptz[])
      as o(id, claim, status, attempted, counted, set_error, error, at, retry_at)
  ), done as (
    delete from delivery_queue q using o
    where q.notification_id = o.id and q.claimed_by = o.claim and o.status <> 'pending'
    returning q.notification_id
  ), again as (
    update delivery_queue q set due_at = coalesce(o.retry_at, q.due_at), claimed_by = null, claimed_until = null
    from o where q.notification_id = o.id and q.claimed_by = o.claim and o.status = 'pending'
    returning q.notification_id
  )
  update notifications n set
    status = o.status,
    attempts = n.attempts + o.attempted,
    failures = n.failures + o.counted,
    last_error = case when o.set_error then o.error else n.last_error end,
    last_attempt_at = case when o.attempted > 0 then o.at else n.last_attempt_at end,
    sent_at = case when o.status = 'sent' then o.at else n.sent_at end
  from o
  where n.id = o.id
    and (n.id in (select notification_id from done) or n.id in (select notification_id from again))
    and (o.status <> 'pending' or o.attempted > 0 or o.counted > 0 or o.set_error)`;

export class PostgresDeliveryQueue implements DeliveryQueue {
  readonly #db: Queryable;
  readonly #box: WebhookSecretBox | undefined;

  /** `box` opens the webhook secrets it claims with their deliveries (none: no webhook deliveries). */
  constructor(db: Queryable, box?: WebhookSecretBox) {
    this.#db = db;
    this.#box = box;
  }

  #openSecret(webhookId: string | null, stored: string): string {
    // Stored before sealing existed (the service seals those at start-up): as it is.
    if (!WebhookSecretBox.isSealed(stored)) return stored;
    if (!this.#box || webhookId === null)
      throw new Error('a sealed webhook secret claimed without a secret box');
    return this.#box.open(stored, webhookId);
  }

  async claim(request: ClaimRequest): Promise<ClaimedDelivery[]> {
    const { rows } = await this.#db.query<
      NotificationRow & {
        bulkhead: string;
        traceparent: string | null;
        webhook_url: string | null;
        webhook_secret: string | null;
      }
    >({
      name: 'notifications-claim-deliveries',
      text: claimSql,
      values: [
        request.claim,
        JSON.stringify(Object.fromEntries(request.perBulkhead)),
        request.defaultPerBulkhead,
        request.total,
        request.leaseMs,
      ],
    });
    return rows.map((r) => ({
      notification: fromRow(r),
      bulkhead: r.bulkhead,
      webhook:
        r.webhook_url !== null && r.webhook_secret !== null
          ? { url: r.webhook_url, secret: this.#openSecret(r.webhook_id, r.webhook_secret) }
          : undefined,
      claim: request.claim,
      traceparent: r.traceparent ?? undefined,
    }));
  }

  async compact(): Promise<void> {
    await this.#db.query('vacuum (skip_locked) delivery_queue');
  }

  async settle(outcomes: readonly Settlement[]): Promise<void> {
    if (outcomes.length === 0) return;
    await this.#db.query({
      name: 'notifications-settle-deliveries',
      text: settleSql,
      values: [
        outcomes.map((o) => o.id),
        outcomes.map((o) => o.claim),
        outcomes.map((o) => o.status),
        outcomes.map((o) => (o.attempted ? 1 : 0)),
        outcomes.map((o) => (o.counted ? 1 : 0)),
        outcomes.map((o) => o.lastError !== undefined),
        outcomes.map((o) => (typeof o.lastError === 'string' ? o.lastError.slice(0, 1000) : null)),
        outcomes.map((o) => o.at),
        outcomes.map((o) => o.retryAt ?? null),
      ],
    });
  }
}
