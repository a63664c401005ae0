import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from '@conveyor/stack';
import { testDatabase } from '@conveyor/stack/testing';
import { pino } from 'pino';
import { createMetricsRegistry } from '../observability/metrics.ts';
import { migrate } from '../postgres/migrate.ts';
import { createPool, type Pool } from '../postgres/pool.ts';
import {
  type DueTimer,
  listTimers,
  startTimerRunner,
  type TimerHandler,
  timersTableSql,
} from './durable-timers.ts';

let db: Awaited<ReturnType<typeof testDatabase>>;
let pool: Pool;
before(async () => {
  db = await testDatabase('durable_timers');
  await migrate({
    url: db.url,
    schema: 'timers',
    migrations: [{ name: '0001_timers', sql: timersTableSql }],
  });
  pool = createPool({ url: db.url, schema: 'timers', applicationName: 'timers-test', max: 8 });
});
after(async () => {
  await pool?.end();
  await db?.drop();
});

const logger = pino({ level: 'silent' });

/** Sets a timer as an append would (the event store's CTE is covered by its contract). */
async function setTimer(key: string, kind: string, inMs: number, payload: Record<string, unknown> = {}) {
  await pool.query(
    `insert into timers (key, kind, payload, due_at) values ($1, $2, $3, now() + $4 * interval '1 millisecond')`,
    [key, kind, JSON.stringify(payload), inMs],
  );
}

function runner(handlers: Record<string, TimerHandler>, over: { leaseMs?: number; retry?: number } = {}) {
  return startTimerRunner({
    db: pool,
    logger,
    registry: createMetricsRegistry('test'),
    owner: `test:${randomUUID()}`,
    pollMs: 10,
    leaseMs: over.leaseMs ?? 30_000,
    handlers,
    ...(over.retry !== undefined ? { retryDelayMs: () => over.retry as number } : {}),
  });
}

/** Waits for a condition, checking every 10 ms. */
const until = (message: string, check: () => Promise<boolean> | boolean) =>
  waitUntil(check, { timeoutMs: 10_000, intervalMs: 10, message });

const remaining = async (prefix: string) =>
  (await pool.query<{ n: number }>('select count(*)::int as n from timers where key like $1', [`${prefix}%`]))
    .rows[0]!.n;

describe('durable timers on Postgres', () => {
  it('fires each due timer once across three replicas, none before it is due, and deletes it', async () => {
    const prefix = `once-${randomUUID()}:`;
    const fired: string[] = [];
    const handler: TimerHandler = async (t) => {
      fired.push(t.key);
    };
    for (let i = 0; i < 60; i++) await setTimer(`${prefix}${i}`, 'test.once', i < 50 ? 0 : 60_000);
    const replicas = [
      runner({ 'test.once': handler }),
      runner({ 'test.once': handler }),
      runner({ 'test.once': handler }),
    ];
    try {
      await until('50 due timers fired', async () => (await remaining(prefix)) === 10);
      // A late duplicate would come from a claim made before the deletes: let every replica finish
      // its current round (stop waits for it) before counting.
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
    }
    const mine = fired.filter((k) => k.startsWith(prefix));
    assert.equal(mine.length, 50, 'each due timer fired exactly once');
    assert.equal(new Set(mine).size, 50);
    assert.equal(
      (await listTimers(pool, { limit: 100, kind: 'test.once' })).length,
      10,
      'the 10 not due wait',
    );
  });

  it('fires a failed timer again later, counting attempts and keeping the error', async () => {
    const key = `fail-${randomUUID()}`;
    let calls = 0;
    const r = runner(
      {
        'test.flaky': async () => {
          calls++;
          if (calls < 3) throw new Error(`down (${calls})`);
        },
      },
      { retry: 50 },
    );
    try {
      await setTimer(key, 'test.flaky', 0);
      await until('the first failure recorded', async () => {
        const t = (await listTimers(pool, { limit: 10, kind: 'test.flaky' })).find((x) => x.key === key);
        return t?.attempts === 1 && t.lastError === 'down (1)';
      });
      await until('the third attempt succeeded and removed it', async () => (await remaining(key)) === 0);
    } finally {
      await r.stop();
    }
    assert.equal(calls, 3);
  });

  it('fires again a timer whose replica stalled past its lease, and fences out the stalled settle', async () => {
    const key = `stall-${randomUUID()}`;
    const seen: string[] = [];
    let releaseStalled: () => void = () => {};
    const stalled = runner(
      {
        'test.stall': (t: DueTimer) => {
          seen.push(`stalled:${t.attempts}`);
          return new Promise<void>((resolve) => {
            releaseStalled = resolve;
          });
        },
      },
      { leaseMs: 200 },
    );
    await setTimer(key, 'test.stall', 0);
    await until('the first replica claimed it', () => seen.length === 1);
    const healthy = runner({ 'test.stall': async () => void seen.push('healthy') }, { leaseMs: 200 });
    try {
      await until('the second replica fired it after the lease', () => seen.includes('healthy'));
      await until('it is gone', async () => (await remaining(key)) === 0);
      // Setting it again (as a new append would) while the stalled handler still runs: the stalled
      // replica's late "done" must not delete the new timer, whose claim is not its.
      await setTimer(key, 'test.stall', 60_000);
      releaseStalled();
      await stalled.stop();
      assert.equal(await remaining(key), 1, 'the stalled settle deleted nothing');
    } finally {
      releaseStalled();
      await Promise.all([stalled.stop(), healthy.stop()]);
    }
  });

  it('leaves a timer of an unknown kind in place, failed, for a replica that knows it', async () => {
    const key = `unknown-${randomUUID()}`;
    const r = runner({}, { retry: 60_000 });
    try {
      await setTimer(key, 'test.from-the-future', 0);
      await until('the attempt recorded', async () => {
        const t = (await listTimers(pool, { limit: 10, kind: 'test.from-the-future' }))[0];
        return t?.attempts === 1;
      });
    } finally {
      await r.stop();
    }
    const [t] = await listTimers(pool, { limit: 10, kind: 'test.from-the-future' });
    assert.match(t?.lastError ?? '', /no handler for timers of kind test.from-the-future/);
  });
});
