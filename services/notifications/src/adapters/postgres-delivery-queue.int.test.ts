import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { migrate } from '@conveyor/platform';
import { testDatabase } from '@conveyor/stack/testing';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import type { ClaimRequest, Settlement } from '../app/delivery-queue.ts';
import { migrations } from './migrations.ts';
import { PostgresDeliveryQueue } from './postgres-delivery-queue.ts';

/** The delivery schedule's contract (app/delivery-queue.ts) against real Postgres. */
describe('PostgresDeliveryQueue (real Postgres)', () => {
  let db: Awaited<ReturnType<typeof testDatabase>>;
  let sql: pg.Pool;
  let queue: PostgresDeliveryQueue;
  const webhook = uuidv7();

  before(async () => {
    db = await testDatabase('delivery_queue');
    await migrate({ url: db.url, schema: 'notifications', migrations });
    sql = new pg.Pool({ connectionString: db.url, options: '-c search_path=notifications' });
    queue = new PostgresDeliveryQueue(sql);
    await sql.query(
      `insert into webhooks (id, user_id, url, secret, created_at) values ($1, null, 'https://h.example/x', 's', now())`,
      [webhook],
    );
  });
  after(async () => {
    await sql?.end();
    await db?.drop();
  });
  beforeEach(async () => {
    await sql.query('delete from delivery_queue');
  });

  /** `n` pending deliveries on a bulkhead, due `dueInMs` from now; their ids. */
  async function schedule(n: number, bulkhead: 'smtp' | 'webhook', dueInMs = 0): Promise<string[]> {
    const ids = Array.from({ length: n }, () => uuidv7());
    await sql.query(
      `insert into notifications (id, user_id, event_id, event_type, channel, target, webhook_id, recipient, subject,
         body_text, body_html, created_at)
       select id, $2, gen_random_uuid(), 'order.created', $3, $4, $5, 'r', 's', 't', '', now() from unnest($1::uuid[]) id`,
      [
        ids,
        uuidv7(),
        bulkhead === 'smtp' ? 'email' : 'webhook',
        bulkhead === 'smtp' ? '' : webhook,
        bulkhead === 'smtp' ? null : webhook,
      ],
    );
    await sql.query(
      `insert into delivery_queue (notification_id, bulkhead, due_at)
       select id, $2, now() + $3 * interval '1 millisecond' from unnest($1::uuid[]) id`,
      [ids, bulkhead === 'smtp' ? 'smtp' : `webhook:${webhook}`, dueInMs],
    );
    return ids;
  }

  const request = (claim: string, over: Partial<ClaimRequest> = {}): ClaimRequest => ({
    claim,
    total: 100,
    perBulkhead: new Map(),
    defaultPerBulkhead: 100,
    leaseMs: 60_000,
    ...over,
  });

  const sent = (id: string, claim: string): Settlement => ({
    id,
    claim,
    status: 'sent',
    attempted: true,
    counted: false,
    lastError: null,
    at: new Date(),
    retryAt: undefined,
  });

  it('claims due deliveries once while leased, never more than asked per bulkhead, none of a bulkhead at 0', async () => {
    await schedule(5, 'smtp');
    await schedule(5, 'webhook');
    await schedule(3, 'smtp', 60_000); // not due yet
    const first = await queue.claim(
      request('a', {
        perBulkhead: new Map([
          ['smtp', 2],
          [`webhook:${webhook}`, 0],
        ]),
      }),
    );
    assert.deepEqual(
      first.map((c) => c.bulkhead),
      ['smtp', 'smtp'],
    );
    const second = await queue.claim(request('b'));
    assert.equal(second.filter((c) => c.bulkhead === 'smtp').length, 3, 'the rest of the due smtp rows');
    assert.equal(second.filter((c) => c.bulkhead !== 'smtp').length, 5);
    assert.deepEqual(second.find((c) => c.bulkhead !== 'smtp')?.webhook, {
      url: 'https://h.example/x',
      secret: 's',
    });
    assert.equal((await queue.claim(request('c'))).length, 0, 'everything due is leased');
  });

  it('never gives one row to two claims made at once', async () => {
    await schedule(200, 'smtp');
    const claims = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        queue.claim(request(`c${i}`, { perBulkhead: new Map([['smtp', 40]]) })),
      ),
    );
    const ids = claims.flat().map((c) => c.notification.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(ids.length, 200);
  });

  it('lets an expired lease be claimed again, and fences out the first claim’s late settle', async () => {
    const [id] = await schedule(1, 'smtp');
    // A lease of 0 ms is over by the next statement, as a crashed replica's is after DELIVERY_LEASE_MS.
    assert.equal((await queue.claim(request('old', { leaseMs: 0 }))).length, 1);
    const again = await queue.claim(request('new'));
    assert.deepEqual(
      again.map((c) => c.notification.id),
      [id],
    );
    await queue.settle([{ ...sent(id!, 'old'), status: 'failed', lastError: 'late' }]);
    const stale = await sql.query('select status, last_error from notifications where id = $1', [id]);
    assert.deepEqual(
      stale.rows[0],
      { status: 'pending', last_error: null },
      'the stale claim changed nothing',
    );
    await queue.settle([sent(id!, 'new')]);
    const done = await sql.query(
      'select n.status, n.attempts, (select count(*)::int from delivery_queue) as queued from notifications n where id = $1',
      [id],
    );
    assert.deepEqual(done.rows[0], { status: 'sent', attempts: 1, queued: 0 });
  });

  it('keeps a failed send with budget left scheduled at its retry time, unclaimed, with its counters', async () => {
    const [id] = await schedule(1, 'smtp');
    await queue.claim(request('x'));
    await queue.settle([
      {
        id: id!,
        claim: 'x',
        status: 'pending',
        attempted: true,
        counted: true,
        lastError: 'smtp: 421',
        at: new Date(),
        retryAt: new Date(Date.now() + 60_000),
      },
    ]);
    const { rows } = await sql.query(
      `select n.attempts, n.failures, n.last_error, q.claimed_by, q.due_at > now() + interval '50 seconds' as later
       from notifications n join delivery_queue q on q.notification_id = n.id where n.id = $1`,
      [id],
    );
    assert.deepEqual(rows[0], {
      attempts: 1,
      failures: 1,
      last_error: 'smtp: 421',
      claimed_by: null,
      later: true,
    });
    assert.equal((await queue.claim(request('y'))).length, 0, 'not due before its retry time');
  });

  it('gives a released claim back at once, touching nothing of the notification', async () => {
    const [id] = await schedule(1, 'smtp');
    await queue.claim(request('x'));
    const before = await sql.query('select xmin::text from notifications where id = $1', [id]);
    await queue.settle([
      {
        id: id!,
        claim: 'x',
        status: 'pending',
        attempted: false,
        counted: false,
        lastError: undefined,
        at: new Date(),
        retryAt: undefined,
      },
    ]);
    const afterRelease = await sql.query('select xmin::text from notifications where id = $1', [id]);
    assert.equal(afterRelease.rows[0].xmin, before.rows[0].xmin, 'no new row version');
    assert.equal((await queue.claim(request('y'))).length, 1);
  });
});
