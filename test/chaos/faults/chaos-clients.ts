import {
  type ApiName,
  callAs as callAsCaller,
  parsePrometheusText,
  type SignedIn,
  signInAdmin,
  apiClient as stackApiClient,
  sumOf,
} from '@conveyor/stack/testing';
import type * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import type { ChaosSystem } from '../chaos-system.ts';

// What the experiments of faults/ share: the services' public APIs as an admin or a customer
// (clients built from proto/, as the load's), and a superuser's look into the database.

/** A service's client at `address` (its first replica by default); close() it after use. */
export function apiClient(system: ChaosSystem, name: ApiName, address?: string): grpc.Client {
  return stackApiClient(name, address ?? system.services[name].grpcAddress);
}

/** The stack's callAs with a deadline long enough for a call made while a fault is on (10 s). */
export const callAs = <T>(
  who: Pick<SignedIn, 'metadata'>,
  client: grpc.Client,
  method: string,
  request: object,
  deadlineMs = 10_000,
): Promise<T> => callAsCaller<T>(who, client, method, request, deadlineMs);

/** The admin every chaos system has (startSystem makes it), signed in now. */
export function signInChaosAdmin(system: ChaosSystem): Promise<SignedIn> {
  return signInAdmin(system.services.users.grpcAddress);
}

/** Runs `work` with a superuser's connection to the system's database (directly, not through a proxy). */
export async function withDatabase<T>(system: ChaosSystem, work: (sql: pg.Client) => Promise<T>): Promise<T> {
  const sql = new pg.Client({ connectionString: system.databaseUrl });
  sql.on('error', () => {}); // a restart of Postgres ends it; the query in flight reports that
  await sql.connect();
  try {
    return await work(sql);
  } finally {
    await sql.end().catch(() => {});
  }
}

/** One number from a query answering a single row with a column `n`. */
export async function countOf(sql: pg.Client, text: string, values: unknown[] = []): Promise<number> {
  return Number((await sql.query<{ n: string | number }>(text, values)).rows[0]?.n ?? 0);
}

/** A gauge or counter (summed over its labels) from a process's /metrics. */
export async function metric(opsUrl: string, name: string): Promise<number> {
  const response = await fetch(`${opsUrl}/metrics`, { signal: AbortSignal.timeout(3000) });
  if (!response.ok) throw new Error(`${opsUrl}/metrics answered ${response.status}`);
  return sumOf(parsePrometheusText(await response.text()), name);
}
