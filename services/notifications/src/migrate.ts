import { ConfigError, migrate } from '@conveyor/platform';
import { migrations } from './adapters/migrations.ts';
import { loadNotificationsConfig } from './config.ts';

/** Applies the notifications schema's migrations (the launcher and the Kubernetes Job run this). */
try {
  const config = loadNotificationsConfig();
  const applied = await migrate({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA, migrations });
  console.log(`notifications: ${applied.length} migration(s) applied`);
} catch (error) {
  console.error(`notifications: ${error instanceof ConfigError ? error.message : (error as Error).message}`);
  process.exit(1);
}
