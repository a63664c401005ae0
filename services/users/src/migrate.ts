import { runMigrationStep } from '@conveyor/platform';
import { migrations, roleGrants } from './adapters/migrations.ts';
import { loadUsersConfig } from './config.ts';

/** Applies the users schema's migrations and grants (the launcher, compose and the Kubernetes Job run this). */
await runMigrationStep({ service: 'users', loadConfig: () => loadUsersConfig(), migrations, roleGrants });
