import { ConfigError } from '../config/load-config.ts';
import type { StreamAccess } from '../messaging/topology.ts';
import { ensureStreamsAsAdmin } from '../messaging/topology.ts';
import { createLogger } from '../observability/logger.ts';
import { type Migration, migrate, type ServiceRoleGrants } from '../postgres/migrate.ts';

/**
 * A service's `migrate.ts` (the launcher, compose and the Kubernetes Job run it): its schema's
 * migrations as the owner, then its role's grants (ADR 0026) when `DATABASE_SERVICE_ROLE` names
 * one, then the NATS streams when it was given the admin identity (ADR 0025: only this step is).
 * Prints what it did; exits 1 with the reason when anything fails.
 */
export async function runMigrationStep(options: {
  service: string;
  loadConfig: () => StreamAccess & {
    DATABASE_URL: string;
    DATABASE_SCHEMA: string;
    DATABASE_SERVICE_ROLE?: string | undefined;
  };
  migrations: readonly Migration[];
  roleGrants: Omit<ServiceRoleGrants, 'role'>;
}): Promise<void> {
  const { service } = options;
  try {
    const config = options.loadConfig();
    const role = config.DATABASE_SERVICE_ROLE;
    const applied = await migrate({
      url: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      migrations: options.migrations,
      serviceRole: role ? { role, ...options.roleGrants } : undefined,
    });
    console.log(`${service}: ${applied.length} migration(s) applied${role ? `, ${role} granted` : ''}`);
    if (config.NATS_ADMIN_NKEY_SEED && config.NATS_MANAGE_TOPOLOGY !== false) {
      await ensureStreamsAsAdmin(config, createLogger({ service: `${service}-migrate`, level: 'warn' }));
      console.log(`${service}: NATS streams ensured`);
    }
  } catch (error) {
    console.error(`${service}: ${error instanceof ConfigError ? error.message : (error as Error).message}`);
    process.exit(1);
  }
}
