import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { migrate } from '@conveyor/platform';
import { type TestDatabase, testDatabase } from '@conveyor/stack/testing';
import pg from 'pg';
import { pino } from 'pino';
import { migrations } from './migrations.ts';
import { WebhookSecretBox } from './webhook-secret-box.ts';
import { loadWebhookSecretBox, sealStoredSecrets } from './webhook-secret-keys.ts';

const logger = pino({ level: 'silent' });
const id = '0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e';

/** Secrets stored before sealing, and a key rotation, handled at start-up (real Postgres). */
describe('webhook secrets sealed at start-up', () => {
  let db: TestDatabase;
  let sql: pg.Pool;

  before(async () => {
    db = await testDatabase('webhook_secrets');
    await migrate({ url: db.url, schema: 'notifications', migrations });
    sql = new pg.Pool({ connectionString: db.url, options: '-c search_path=notifications', max: 2 });
    await sql.query(
      `insert into webhooks (id, user_id, url, secret, created_at)
       values ($1, null, 'https://hooks.example.com/in', 'whsec_legacy_plaintext_secret', now())`,
      [id],
    );
  });
  after(async () => {
    await sql?.end();
    await db?.drop();
  });

  const stored = async () =>
    (await sql.query('select secret from webhooks where id = $1', [id])).rows[0].secret as string;

  it('seals a plaintext secret, rewraps on rotation, and refuses to start without the key it needs', async () => {
    const k1 = WebhookSecretBox.newKey();
    const k2 = WebhookSecretBox.newKey();
    const first = WebhookSecretBox.parse(`k1=${k1}`);
    await sealStoredSecrets(sql, first, logger);
    assert.match(await stored(), /^v1\.k1\./);
    assert.equal(first.open(await stored(), id), 'whsec_legacy_plaintext_secret');

    const rotated = WebhookSecretBox.parse(`k2=${k2},k1=${k1}`);
    await sealStoredSecrets(sql, rotated, logger);
    assert.match(await stored(), /^v1\.k2\./);
    assert.equal(
      WebhookSecretBox.parse(`k2=${k2}`).open(await stored(), id),
      'whsec_legacy_plaintext_secret',
    );

    await assert.rejects(
      sealStoredSecrets(sql, WebhookSecretBox.parse(`k3=${k1}`), logger),
      /webhook .*: webhook secret sealed with key k2, which WEBHOOK_SECRET_KEYS no longer has/,
    );
  });

  it('requires WEBHOOK_SECRET_KEYS in production and keeps one development key otherwise', async () => {
    await assert.rejects(
      loadWebhookSecretBox({ setting: undefined, production: true, pool: sql, logger }),
      /WEBHOOK_SECRET_KEYS is not set: required in production/,
    );
    const [a, b] = await Promise.all([
      loadWebhookSecretBox({ setting: undefined, production: false, pool: sql, logger }),
      loadWebhookSecretBox({ setting: undefined, production: false, pool: sql, logger }),
    ]);
    assert.equal(b.open(a.seal('s', id), id), 's', 'every replica gets the same development key');
    await assert.rejects(
      loadWebhookSecretBox({ setting: 'k1=short', production: true, pool: sql, logger }),
      /key k1 is not 32 bytes/,
    );
  });
});
