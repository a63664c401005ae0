import { runMigrationStep } from '@conveyor/platform';
import { migrations, roleGrants } from './adapters/migrations.ts';
import { loadOrdersConfig } from './config.ts';

/** Applies the orders schema's migrations and grants (the launcher, compose and the Kubernetes Job run this). */
await runMigrationStep({ service: 'orders', loadConfig: () => loadOrdersConfig(), migrations, roleGrants });
