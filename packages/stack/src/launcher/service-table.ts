import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './repo-root.ts';

/** A service of the system: its code is in services/<name>/src (main.ts, migrate.ts). */
export interface ServiceEntry {
  name: string;
  grpcPort: number;
  opsPort: number;
  /** Sends mail: gets SMTP_URL pointing at the launcher's SMTP sink. */
  smtp?: boolean;
  /** Services it calls over gRPC: each gets `<NAME>_ADDR` with that service's address. */
  calls?: readonly string[];
  /**
   * Serves HTTP, not gRPC (the gateway): `grpcPort` is its HTTP port, set as `<NAME>_PORT`;
   * it also gets `<NAME>_OPS_URL` of each service it calls, and no migrations run for it.
   */
  http?: boolean;
}

/**
 * Every service, in start order, with its default ports. The launcher runs (and the CLI
 * knows) only those whose services/<name>/src/main.ts exists.
 */
export const serviceTable: readonly ServiceEntry[] = [
  { name: 'users', grpcPort: 50051, opsPort: 9101 },
  { name: 'orders', grpcPort: 50052, opsPort: 9102, calls: ['users'] },
  { name: 'notifications', grpcPort: 50053, opsPort: 9103, smtp: true, calls: ['users'] },
  { name: 'gateway', grpcPort: 8080, opsPort: 9104, calls: ['users', 'orders', 'notifications'], http: true },
];

export function serviceSource(
  name: string,
  file: 'main.ts' | 'migrate.ts' | 'bootstrap-admin.ts',
  root = repoRoot,
): string {
  return join(root, 'services', name, 'src', file);
}

/** Entries of `serviceTable` whose main.ts exists. */
export function presentServices(root = repoRoot): ServiceEntry[] {
  return serviceTable.filter((entry) => existsSync(serviceSource(entry.name, 'main.ts', root)));
}

/** Prefix of a service's environment variables: `notifications` → `NOTIFICATIONS`. */
export function envPrefix(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}
