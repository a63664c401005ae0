import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testDatabase } from '@conveyor/stack';
import { v7 as uuidv7 } from 'uuid';
import { messagingTablesSql, migrate } from '../postgres/migrate.ts';
import { createPool } from '../postgres/pool.ts';
import { eventStoreContract } from './event-store.contract.ts';
import { eventStoreTablesSql, PostgresEventStore } from './postgres-event-store.ts';

const migrations = [
  { name: '0001_outbox', sql: messagingTablesSql.outbox },
  { name: '0002_event_store', sql: eventStoreTablesSql },
];

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
    teardown: () => pool.end(),
  };
});

describe('Postgres event store specifics', () => {
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
