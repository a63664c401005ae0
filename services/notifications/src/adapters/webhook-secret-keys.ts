import { ConfigError, type Logger, type Pool } from '@conveyor/platform';
import { WebhookSecretBox } from './webhook-secret-box.ts';

/**
 * The box that seals webhook secrets: WEBHOOK_SECRET_KEYS, required in production; elsewhere a
 * development key generated once and kept in the schema (insert-if-absent, then read what won),
 * so every replica opens what another sealed. Errors never echo a key.
 */
export async function loadWebhookSecretBox(options: {
  setting: string | undefined;
  production: boolean;
  pool: Pool;
  logger: Logger;
}): Promise<WebhookSecretBox> {
  if (options.setting) {
    try {
      return WebhookSecretBox.parse(options.setting);
    } catch (error) {
      throw new ConfigError([(error as Error).message]);
    }
  }
  if (options.production) {
    throw new ConfigError([
      'WEBHOOK_SECRET_KEYS is not set: required in production (kid=base64url of 32 bytes)',
    ]);
  }
  await options.pool.query(
    `insert into secret_keys (name, key) values ('dev', $1) on conflict (name) do nothing`,
    [WebhookSecretBox.newKey()],
  );
  const { rows } = await options.pool.query<{ key: string }>(
    `select key from secret_keys where name = 'dev'`,
  );
  options.logger.warn(
    'WEBHOOK_SECRET_KEYS unset: sealing webhook secrets with the development key stored in the database',
  );
  return WebhookSecretBox.parse(`dev=${rows[0]!.key}`);
}

/**
 * Seals the webhook secrets stored before sealing existed and rewraps those sealed with an older
 * key under the current one; refuses to start when a secret was sealed with a key that is gone.
 */
export async function sealStoredSecrets(pool: Pool, box: WebhookSecretBox, logger: Logger): Promise<void> {
  // Only what is not sealed under the current key yet: usually nothing, so start-up reads no secret.
  const { rows } = await pool.query<{ id: string; secret: string }>(
    `select id, secret from webhooks where split_part(secret, '.', 1) <> 'v1' or split_part(secret, '.', 2) <> $1`,
    [box.currentKeyId],
  );
  let sealed = 0;
  let rewrapped = 0;
  for (const row of rows) {
    let next: string | undefined;
    if (!WebhookSecretBox.isSealed(row.secret)) {
      next = box.seal(row.secret, row.id);
      sealed++;
    } else {
      try {
        next = box.rewrap(row.secret, row.id);
      } catch (error) {
        throw new ConfigError([`webhook ${row.id}: ${(error as Error).message}`]);
      }
      if (next) rewrapped++;
    }
    // Only if nobody changed it meanwhile (another replica doing the same).
    if (next)
      await pool.query('update webhooks set secret = $2 where id = $1 and secret = $3', [
        row.id,
        next,
        row.secret,
      ]);
  }
  if (sealed + rewrapped > 0) {
    logger.info({ sealed, rewrapped, key: box.currentKeyId }, 'webhook secrets sealed under the current key');
  }
}
