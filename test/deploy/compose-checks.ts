import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Rules for docker-compose.yml that the compose-spec schema cannot express: pinned images,
 * loopback-only ports, known dependencies, hardened application containers that stop within
 * their grace period and start after their migrations, and bind mounts that exist.
 */

interface ComposeService {
  image?: string;
  build?: { context?: string; args?: Record<string, string> } | string;
  command?: string[] | string;
  ports?: (string | { published?: string | number; host_ip?: string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  environment?: Record<string, string> | string[];
  volumes?: (string | { type?: string; source?: string })[];
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  stop_grace_period?: string;
  healthcheck?: { test?: unknown; disable?: boolean };
}
export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const seconds = (duration: string | undefined) => {
  const m = /^(\d+)(ms|s|m)$/.exec(duration ?? '');
  if (!m) return 10; // Docker's default stop grace period
  return Number(m[1]) * ({ ms: 0.001, s: 1, m: 60 } as const)[m[2] as 'ms' | 's' | 'm'];
};

export function environment(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (!Array.isArray(env)) return env;
  return Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

/**
 * The application services: built from this repository's Dockerfile with a SERVICE argument, not
 * one-shot commands (migrations, the first admin).
 */
export function appServices(compose: ComposeFile): [string, ComposeService][] {
  return Object.entries(compose.services).filter(
    ([, s]) =>
      typeof s.build === 'object' &&
      s.build.args?.SERVICE &&
      !/migrate|bootstrap-admin/.test(JSON.stringify(s.command ?? '')),
  );
}

export function composeProblems(compose: ComposeFile, root: string): string[] {
  const out: string[] = [];
  const names = new Set(Object.keys(compose.services));
  for (const [name, s] of Object.entries(compose.services)) {
    if (!s.build) {
      const tag = s.image?.split('/').at(-1)?.split(':')[1];
      if (!tag || tag === 'latest') out.push(`${name}: image ${s.image} is not pinned to a version`);
    }
    for (const port of s.ports ?? []) {
      const hostIp =
        typeof port === 'string' ? port.split(':').length === 3 && port.split(':')[0] : port.host_ip;
      if (hostIp !== '127.0.0.1') out.push(`${name}: port ${JSON.stringify(port)} is not bound to 127.0.0.1`);
    }
    const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
    for (const dep of deps) if (!names.has(dep)) out.push(`${name}: depends on unknown service ${dep}`);
    for (const volume of s.volumes ?? []) {
      const source = typeof volume === 'string' ? volume.split(':')[0]! : (volume.source ?? '');
      if (source.startsWith('.') && !existsSync(join(root, source)))
        out.push(`${name}: mounts missing ${source}`);
      if (!source.startsWith('.') && !source.startsWith('/') && !(source in (compose.volumes ?? {}))) {
        out.push(`${name}: named volume ${source} is not declared`);
      }
    }
  }
  for (const [name, s] of appServices(compose)) {
    if (s.read_only !== true) out.push(`${name}: root filesystem is not read-only`);
    if (!s.cap_drop?.includes('ALL')) out.push(`${name}: capabilities are not all dropped`);
    if (!s.security_opt?.some((o) => /^no-new-privileges(:true)?$/.test(o)))
      out.push(`${name}: no-new-privileges not set`);
    if (s.healthcheck?.disable) out.push(`${name}: healthcheck disabled`);
    const grace = Number(environment(s).SHUTDOWN_GRACE_MS ?? 10_000) / 1000;
    if (seconds(s.stop_grace_period) <= grace) {
      out.push(
        `${name}: stop_grace_period ${s.stop_grace_period ?? '10s'} does not exceed SHUTDOWN_GRACE_MS`,
      );
    }
    const conditions = Array.isArray(s.depends_on) ? {} : (s.depends_on ?? {});
    const migrated = Object.entries(conditions).some(
      ([dep, c]) => /migrate/.test(dep) && c.condition === 'service_completed_successfully',
    );
    // A service without migrations (the gateway owns no data) has nothing to wait for.
    const service = typeof s.build === 'object' ? s.build.args?.SERVICE : undefined;
    const hasMigrations = existsSync(join(root, 'services', String(service), 'src', 'migrate.ts'));
    if (!migrated && hasMigrations) out.push(`${name}: does not wait for a migration to complete`);
  }
  return out;
}

/** Compose's `${VAR}`, `${VAR:-default}` and `${VAR-default}` with the given variables (none by default). */
export function interpolate(value: string, vars: Record<string, string> = {}): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}/g, (_, name, op, fallback) => {
    const set = vars[name];
    if (op === ':-') return set ? set : (fallback ?? '');
    if (op === '-') return set ?? fallback ?? '';
    return set ?? '';
  });
}

/**
 * Service tokens (ADR 0011): every caller holding USERS_SERVICE_SECRET must appear in users'
 * USERS_SERVICE_SECRETS (`name=secret,…`) with the same secret, of at least 16 characters, after
 * interpolation with `vars` (so the defaults agree, and so do values set from the environment).
 */
export function serviceSecretProblems(compose: ComposeFile, vars: Record<string, string> = {}): string[] {
  const out: string[] = [];
  const users = compose.services.users;
  const list = interpolate(users ? (environment(users).USERS_SERVICE_SECRETS ?? '') : '', vars);
  const known = new Map(
    list
      .split(',')
      .filter((pair) => pair.includes('='))
      .map((pair) => [pair.slice(0, pair.indexOf('=')).trim(), pair.slice(pair.indexOf('=') + 1).trim()]),
  );
  for (const [name, secret] of known) {
    if (secret.length < 16)
      out.push(`users: USERS_SERVICE_SECRETS entry ${name} is shorter than 16 characters`);
  }
  for (const [name, s] of Object.entries(compose.services)) {
    const own = environment(s).USERS_SERVICE_SECRET;
    if (own === undefined) continue;
    if (!known.has(name))
      out.push(`${name}: has USERS_SERVICE_SECRET but is not in users' USERS_SERVICE_SECRETS`);
    else if (known.get(name) !== interpolate(own, vars))
      out.push(`${name}: USERS_SERVICE_SECRET differs from its entry in users' USERS_SERVICE_SECRETS`);
  }
  return out;
}
