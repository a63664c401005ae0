import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { eventStoreTablesSql } from '../event-store/postgres-event-store.ts';
import { messagingTablesSql } from '../postgres/migrate.ts';
import { type SchemaFixture, schemaFixture } from '../testing/schema-fixture.ts';
import { recordInInbox } from './inbox.ts';
import { INBOX_RETENTION_MS, pruneIdempotencyClaims, pruneInbox } from './retention.ts';

const day = 24 * 60 * 60 * 1000;

describe('bounded inboxes and idempotency claims (ADR 0030, real Postgres)', () => {
  let tables: SchemaFixture;
  let pool: pg.Pool;

  before(async () => {
    tables = await schemaFixture({
      name: 'retention',
      schema: 'retentiontest',
      tables: { '0001_inbox': messagingTablesSql.inbox, '0002_event_store': eventStoreTablesSql },
    });
    pool = tables.pool;
  });
  after(async () => {
    await tables?.stop();
  });

  it('forgets what was handled past the retention and still recognises everything newer', async () => {
    const now = new Date();
    const old = uuidv7();
    const recent = uuidv7();
    await pool.query(
      `insert into inbox (consumer, event_id, processed_at) values ('c', $1, $3), ('c', $2, $4)`,
      [
        old,
        recent,
        new Date(now.getTime() - INBOX_RETENTION_MS - day),
        new Date(now.getTime() - INBOX_RETENTION_MS + day),
      ],
    );
    assert.equal(await pruneInbox(pool, now), 1);
    assert.equal(await pruneInbox(pool, now), 0, 'nothing more to prune');
    assert.equal(
      await recordInInbox(pool, 'c', recent),
      false,
      'a redelivery of the newer event is still dropped',
    );
    assert.equal(await recordInInbox(pool, 'c', old), true, 'the forgotten one would be applied again');
  });

  it('prunes in batches, and idempotency claims the same way', async () => {
    const now = new Date();
    const long = new Date(now.getTime() - INBOX_RETENTION_MS - day);
    await pool.query(
      `insert into inbox (consumer, event_id, processed_at) select 'batch', gen_random_uuid(), $1 from generate_series(1, 25)`,
      [long],
    );
    assert.equal(await pruneInbox(pool, now, 10), 10);
    assert.equal(await pruneInbox(pool, now, 10), 10);
    assert.equal(await pruneInbox(pool, now, 10), 5);
    await pool.query(
      `insert into idempotency_claims (scope, key, stream_id, claimed_at) values ('s', 'old', 'x', $1), ('s', 'new', 'y', now())`,
      [long],
    );
    assert.equal(await pruneIdempotencyClaims(pool, now), 1);
    assert.deepEqual((await pool.query('select key from idempotency_claims')).rows, [{ key: 'new' }]);
  });
});
