import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testDatabase } from '@conveyor/stack/testing';
import { v7 as uuidv7 } from 'uuid';
import { messagingTablesSql, migrate } from '../postgres/migrate.ts';
import { createPool } from '../postgres/pool.ts';
import { timersTableSql } from '../timers/durable-timers.ts';
import { eventStoreContract } from './event-store.contract.ts';
import { eventStoreTablesSql, PostgresEventStore } from './postgres-event-store.ts';

const migrations = [
  { name: '0001_outbox', sql: messagingTablesSql.outbox },
  { name: '0002_event_store', sql: eventStoreTablesSql },
  { name: '0003_timers', sql: timersTableSql },
];

const timersOf = (pool: ReturnType<typeof createPool>) => async () =>
  new Map(
    (await pool.query<{ key: string; due_at: Date }>('select key, due_at from timers')).rows.map((r) => [
      r.key,
      r.due_at,
    ]),
  );

let db: Awaited<ReturnType<typeof testDatabase>>;
before(async () => {
  db = await testDatabase('event_store');
  await migrate({ url: db.url, schema: 'es', migrations });
});
after(async () => {
  await db?.drop();
});

eventStoreContract('postgres', async () => {
  const pool = createPool({ url: db.url, schema: 'es', applicationName: 'contract', max: 12 });
  return {
    store: new PostgresEventStore(pool),
    outboxEventIds: async () =>
      (await pool.query('select event_id from outbox order by position')).rows.map((r) => r.event_id),
    timers: timersOf(pool),
    teardown: () => pool.end(),
  };
});

// The same contract with appends of new streams grouped into shared statements.
eventStoreContract('postgres with group commit', async () => {
  const pool = createPool({ url: db.url, schema: 'es', applicationName: 'contract-group', max: 12 });
  return {
    store: new PostgresEventStore(pool, { groupCommit: 32 }),
    outboxEventIds: async () =>
      (await pool.query('select event_id from outbox order by position')).rows.map((r) => r.event_id),
    timers: timersOf(pool),
    teardown: () => pool.end(),
  };
});

describe('Postgres event store specifics', () => {
  it('groups concurrent new-stream appends, each with its own claim, conflict and result', async () => {
    const pool = createPool({ url: db.url, schema: 'es', applicationName: 'group-commit', max: 4 });
    try {
      const store = new PostgresEventStore(pool, { groupCommit: 64 });
      const existing = `group-existing-${uuidv7()}`;
      await store.appendToStream(existing, [{ eventId: uuidv7(), type: 'X', data: {}, metadata: {} }], {
        expectedVersion: 0,
      });
      const scope = `group-${uuidv7()}`;
      const append = (streamId: string, key: string) =>
        store.appendToStream(
          streamId,
          [
            { eventId: uuidv7(), type: 'A', data: { n: 1 }, metadata: {} },
            { eventId: uuidv7(), type: 'B', data: { n: 2 }, metadata: {} },
          ],
          { expectedVersion: 0, idempotency: { scope, key } },
        );
      const before = Number(
        (await pool.query('select pg_snapshot_xmax(pg_current_snapshot())::text as x')).rows[0].x,
      );
      // 40 at once: fresh streams, one key used twice, and one stream that exists already.
      const streams = Array.from({ length: 38 }, () => `group-${uuidv7()}`);
      const results = await Promise.allSettled([
        ...streams.map((id, i) => append(id, `k${i}`)),
        append(`group-${uuidv7()}`, 'k0'),
        append(existing, 'k-existing'),
      ]);
      const after = Number(
        (await pool.query('select pg_snapshot_xmax(pg_current_snapshot())::text as x')).rows[0].x,
      );
      const kinds = results.map((r) => (r.status === 'fulfilled' ? r.value.kind : (r.reason as Error).name));
      assert.deepEqual(kinds.slice(0, 38), Array(38).fill('appended'));
      assert.equal(kinds[38], 'duplicate', 'the reused key returns the first stream');
      assert.equal(kinds[39], 'ConcurrencyConflict');
      const first = results[0]!;
      assert.ok(first.status === 'fulfilled' && first.value.kind === 'appended');
      assert.deepEqual(
        first.value.events.map((e) => [e.version, e.type]),
        [
          [1, 'A'],
          [2, 'B'],
        ],
      );
      const dup = results[38]!;
      assert.ok(
        dup.status === 'fulfilled' && dup.value.kind === 'duplicate' && dup.value.streamId === streams[0],
      );
      // Far fewer transactions than appends: they shared statements.
      assert.ok(after - before < 20, `${after - before} write transactions for 40 appends`);
    } finally {
      await pool.end();
    }
  });

  it('refuses to change or delete a stored event', async () => {
    const pool = createPool({ url: db.url, schema: 'es', applicationName: 'immutability' });
    try {
      const store = new PostgresEventStore(pool);
      const id = `immutable-${uuidv7()}`;
      await store.appendToStream(id, [{ eventId: uuidv7(), type: 'X', data: {}, metadata: {} }], {
        expectedVersion: 0,
      });
      await assert.rejects(
        pool.query(`update events set data = '{"x":1}' where stream_id = $1`, [id]),
        /immutable/,
      );
      await assert.rejects(pool.query('delete from events where stream_id = $1', [id]), /immutable/);
    } finally {
      await pool.end();
    }
  });
});
