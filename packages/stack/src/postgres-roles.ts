// Database roles for the systems the stack starts (ADR 0026): one login role per service, made
// once per Postgres server (roles are cluster-wide) and shared by every database on it.
import pg from 'pg';

/** The role a service connects as: `conveyor_<service>`. */
export function serviceRole(service: string): string {
  return `conveyor_${service}`;
}

/**
 * The local password of a service role. Local and test servers only (production's come from
 * Secrets): it is fixed, so every system on one server can share the role, and published here.
 */
export function localRolePassword(service: string): string {
  return `conveyor-local-${service}`;
}

/** `url` with the service's role and local password in place of its user. */
export function roleUrl(url: string, service: string): string {
  const parsed = new URL(url);
  parsed.username = serviceRole(service);
  parsed.password = localRolePassword(service);
  return parsed.toString();
}

/**
 * Makes the services' roles on the server behind `url` when they are missing, safely while other
 * systems do the same at once (a concurrent CREATE ROLE loses with a duplicate, which is fine),
 * and lets the connecting user act as them (the migrator gives them the tables they own).
 * Resolves to why not when the user may not make roles: the services then connect as it.
 */
export async function ensureServiceRoles(
  url: string,
  services: readonly string[],
): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, application_name: 'conveyor-roles' });
  await client.connect();
  try {
    const { rows } = await client.query<{ superuser: boolean; createrole: boolean; name: string }>(
      'select rolsuper as superuser, rolcreaterole as createrole, current_user as name from pg_roles where rolname = current_user',
    );
    const me = rows[0];
    if (!me?.superuser && !me?.createrole) return `${me?.name ?? 'the user'} may not create roles`;
    for (const service of services) {
      const role = serviceRole(service);
      const password = localRolePassword(service).replace(/'/g, "''");
      await client.query(`
        do $$ begin
          create role ${role} login password '${password}';
        exception when duplicate_object or unique_violation then null;
        end $$`);
      if (!me.superuser) {
        await client.query(`
          do $$ begin
            grant ${role} to current_user;
          exception when duplicate_object or unique_violation then null;
          end $$`);
      }
    }
    return undefined;
  } finally {
    await client.end();
  }
}
