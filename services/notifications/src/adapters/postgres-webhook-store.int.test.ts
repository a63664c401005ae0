import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createPool, migrate, type Pool } from '@conveyor/platform';
import { type TestDatabase, testDatabase } from '@conveyor/stack/testing';
import { v7 as uuidv7 } from 'uuid';
import { migrations } from './migrations.ts';
import { PostgresWebhookStore } from './postgres-webhook-store.ts';
import { WebhookSecretBox } from './webhook-secret-box.ts';

/** Listing webhooks against real Postgres: oldest first, an owner's only, paged after a (createdAt, id). */
describe('PostgresWebhookStore list (real Postgres)', () => {
  let db: TestDatabase;
  let pool: Pool;
  let store: PostgresWebhookStore;

  before(async () => {
    db = await testDatabase('webhook_store');
    await migrate({ url: db.url, schema: 'notifications', migrations });
    pool = createPool({ url: db.url, schema: 'notifications', applicationName: 'test' });
    store = new PostgresWebhookStore(pool, new WebhookSecretBox([{ id: 'k1', key: randomBytes(32) }]));
  });
  after(async () => {
    await pool?.end();
    await db?.drop();
  });

  it("lists an owner's webhooks oldest first and pages after the last one seen", async () => {
    const owner = uuidv7();
    const start = Date.now();
    const ids = [uuidv7(), uuidv7(), uuidv7()];
    for (const [i, id] of ids.entries()) {
      const webhook = {
        id,
        userId: owner,
        url: `https://hooks.example/${i}`,
        createdAt: new Date(start + i),
      };
      await store.add({ ...webhook, secret: `whsec_${i}` }, 10);
    }
    await store.add(
      {
        id: uuidv7(),
        userId: uuidv7(),
        url: 'https://hooks.example/other',
        createdAt: new Date(start),
        secret: 's',
      },
      10,
    );

    const all = await store.list({ userId: owner, limit: 10 });
    assert.deepEqual(
      all.map((w) => w.id),
      ids,
    );
    const first = all[0]!;
    const rest = await store.list({
      userId: owner,
      limit: 10,
      after: { createdAt: first.createdAt, id: first.id },
    });
    assert.deepEqual(
      rest.map((w) => w.id),
      ids.slice(1),
    );
    assert.equal((await store.list({ userId: owner, limit: 2 })).length, 2, 'the limit holds');
    assert.ok((await store.list({ limit: 10 })).length >= 4, "without an owner: everyone's");
  });
});
