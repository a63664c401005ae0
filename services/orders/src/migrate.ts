import { ConfigError, migrate } from '@conveyor/platform';
import { migrations } from './adapters/migrations.ts';
import { loadOrdersConfig } from './config.ts';

/** Applies the orders schema's migrations (the launcher and the Kubernetes Job run this). */
try {
  const config = loadOrdersConfig();
  const applied = await migrate({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA, migrations });
  console.log(`orders: ${applied.length} migration(s) applied`);
} catch (error) {
  console.error(`orders: ${error instanceof ConfigError ? error.message : (error as Error).message}`);
  process.exit(1);
}
