import { ConfigError, migrate } from '@conveyor/platform';
import { migrations } from './adapters/migrations.ts';
import { loadUsersConfig } from './config.ts';

/** Applies the users schema's migrations (the launcher and the Kubernetes Job run this). */
try {
  const config = loadUsersConfig();
  const applied = await migrate({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA, migrations });
  console.log(`users: ${applied.length} migration(s) applied`);
} catch (error) {
  console.error(`users: ${error instanceof ConfigError ? error.message : (error as Error).message}`);
  process.exit(1);
}
