import { runMigrationStep } from '@conveyor/platform';
import { migrations, roleGrants } from './adapters/migrations.ts';
import { loadNotificationsConfig } from './config.ts';

/** Applies the notifications schema's migrations and grants (the launcher, compose and the Kubernetes Job run this). */
await runMigrationStep({
  service: 'notifications',
  loadConfig: () => loadNotificationsConfig(),
  migrations,
  roleGrants,
});
