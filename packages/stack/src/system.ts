import { randomBytes } from 'node:crypto';
import type { NatsIdentity } from '@conveyor/contracts';
import {
  createLogger,
  ensureStreamsAsAdmin,
  type Migration,
  migrate,
  natsTls,
  type ServiceRoleGrants,
} from '@conveyor/platform';
import type { ConnectionOptions } from '@nats-io/transport-node';
import { DelegateBackoff, handleType, handleWhen, type IRetryBackoffContext, retry } from 'cockatiel';
import { awaitReady } from './launcher/await-ready.ts';
import { isPortFree } from './launcher/ports.ts';
import { repoRoot } from './launcher/repo-root.ts';
import { envPrefix, serviceSource, serviceTable } from './launcher/service-table.ts';
import { generateNatsSeeds, type NatsSeeds, natsConnectOptions, natsIdentityEnv } from './nats-identities.ts';
import { freePort } from './net-utils.ts';
import { ensureServiceRoles, roleUrl, serviceRole as serviceRoleName } from './postgres-roles.ts';
import { type ServiceProcess, spawnService } from './process-group.ts';
import { serviceRuntimeEnv } from './process-tuning.ts';
import { type SmtpSink, type SmtpSinkOptions, startSmtpSink } from './smtp-sink.ts';
import { type TestDatabase, type TestNats, testDatabase, testNats } from './throwaway.ts';

/** The services of the service table. */
export type ServiceName = 'users' | 'orders' | 'notifications' | 'gateway';

/** Who is an admin and what notifications presents to users (ADR 0011). */
export interface SystemAuth {
  /** The first admin, made as an operator would (users' bootstrap-admin) once users is migrated. */
  adminEmail: string;
  adminPassword: string;
  /** The secret notifications presents to users for a service token. */
  serviceSecret: string;
}

export interface SystemOptions {
  /** Prefix of the system's fresh database (`t_<name>_<random>`). */
  name: string;
  /** What runs, started callees first (the service table's order): e.g. users before orders. */
  services: readonly ServiceName[];
  /** Processes per service (default 1); each replica has its own ports. */
  replicas?: Partial<Record<ServiceName, number>>;
  /** Environment of every service (`all`), then of one service; later entries win; undefined unsets. */
  env?: Partial<Record<ServiceName | 'all', Record<string, string | undefined>>>;
  /** Fixed ports of a service's first replica (`conveyor up`); free ports otherwise. */
  ports?: Partial<Record<ServiceName, { grpcPort: number; opsPort: number }>>;
  /** Identities; by default the test admin (admin@conveyor.test) and a secret random per system. */
  auth?: Partial<SystemAuth>;
  /**
   * Infrastructure to use instead of starting it: a database URL (migrated, never dropped) and a
   * NATS URL. `smtp: false` starts no SMTP sink; options size the sink.
   */
  infra?: {
    databaseUrl?: string;
    natsUrl?: string;
    /** The identities the server at natsUrl admits (ADR 0025); without them it must admit anyone. */
    natsSeeds?: NatsSeeds | undefined;
    /** An SMTP server's URL for the services that mail (no sink is started then). */
    smtpUrl?: string;
    smtp?: false | Partial<SmtpSinkOptions>;
  };
  /** Where the services' log lines go (uncoloured); by default this process's stdout, prefixed. */
  output?: (line: string) => void;
  /** Hand `output` pino's JSON lines as written, every field kept (default: rendered readably). */
  jsonOutput?: boolean;
  /** Progress: migrations applied, services ready, who is still awaited. */
  log?: (line: string) => void;
  /** How long one service may take to become ready (default 20 s). */
  readyTimeoutMs?: number;
  /** Aborts start-up (Ctrl-C in `conveyor up`). */
  signal?: AbortSignal;
  /** How often a process that exits or hangs before it is ready is started (default 1: fail at once). */
  startAttempts?: number;
  /** Told of each start that failed and will be tried again. */
  onStartFailure?: (service: ServiceUnderTest, error: Error) => void;
}

/** One running process of a service. */
export interface ServiceUnderTest {
  name: ServiceName;
  replica: number;
  /** gRPC port (the gateway's HTTP port). */
  grpcPort: number;
  opsPort: number;
  /** `127.0.0.1:<grpcPort>`. */
  address: string;
  /** `http://127.0.0.1:<opsPort>`. */
  opsUrl: string;
  /** The whole environment it was started with. */
  env: Record<string, string | undefined>;
  process: ServiceProcess;
}

export interface System {
  databaseUrl: string;
  natsUrl: string;
  /** The identities its NATS admits; undefined when it admits anyone. */
  natsSeeds: NatsSeeds | undefined;
  /** `connect()` options for its NATS as an identity: `test` (the default) may publish anything. */
  natsOptions(identity?: NatsIdentity): ConnectionOptions;
  /** The database this system created (throws when it was given one). */
  readonly db: TestDatabase;
  /** The nats-server this system started (throws when it was given one): kill, restart. */
  readonly nats: TestNats;
  /** The SMTP sink (throws when started without one). */
  readonly smtp: SmtpSink;
  auth: SystemAuth;
  /** A replica of a service (the first by default). */
  service(name: ServiceName, replica?: number): ServiceUnderTest;
  /** Every replica of a service, in start order. */
  replicas(name: ServiceName): ServiceUnderTest[];
  /** `127.0.0.1:<port>` of a service's first replica. */
  address(name: ServiceName): string;
  /**
   * Starts a replica again on its ports (after a kill or a stop), with `env` over its environment;
   * waits for /readyz. The system stops the new process at the end.
   */
  restart(service: ServiceUnderTest, env?: Record<string, string | undefined>): Promise<ServiceUnderTest>;
  /** Starts one more replica of a service on fresh ports. */
  addReplica(name: ServiceName, env?: Record<string, string | undefined>): Promise<ServiceUnderTest>;
  /**
   * Stops every service at once (SIGTERM, SIGKILL after `graceMs`, default 10 s), then the SMTP
   * sink, NATS and the database; answers how each service ended.
   */
  stop(graceMs?: number): Promise<string>;
}

/** A start that failed because another process took one of the ports picked for it; `cause` is why. */
class PortTaken extends Error {
  constructor(cause: unknown) {
    super('a port was taken by another process', { cause });
  }

  static unwrap(error: unknown): unknown {
    return error instanceof PortTaken ? error.cause : error;
  }
}

const STOP_GRACE_MS = 10_000;

/** The admin every test system makes (see testing/auth.ts). */
export const TEST_ADMIN_EMAIL = 'admin@conveyor.test';
export const TEST_ADMIN_PASSWORD = 'admin-password-for-tests';

/**
 * Conveyor as processes, the way every test tier, the bench and the chaos runs need it: finds or
 * starts its infrastructure (a fresh database on the test Postgres server, a private nats-server,
 * an SMTP sink), runs each service's own migrations, starts the services as processes callees
 * first, each wired to the others, and waits until each is ready. stop() undoes it in reverse.
 */
export async function startSystem(options: SystemOptions): Promise<System> {
  const auth: SystemAuth = {
    adminEmail: options.auth?.adminEmail ?? TEST_ADMIN_EMAIL,
    adminPassword: options.auth?.adminPassword ?? TEST_ADMIN_PASSWORD,
    serviceSecret: options.auth?.serviceSecret ?? randomBytes(24).toString('base64url'),
  };
  const undo: (() => Promise<void>)[] = [];
  const running = new Map<ServiceName, ServiceUnderTest[]>();
  const stop = async (graceMs = STOP_GRACE_MS) => {
    const ended = await Promise.all(
      [...running.values()].flat().map(async (s) => {
        await s.process.stop(graceMs);
        const code = await s.process.exited;
        return `${s.name}${s.replica ? `-${s.replica}` : ''} (${code === null ? 'killed' : `exit ${code}`})`;
      }),
    );
    running.clear();
    for (const step of undo.reverse()) await step();
    undo.length = 0;
    return `services stopped: ${ended.join(', ')}`;
  };
  const log = options.log ?? (() => {});
  try {
    const db = options.infra?.databaseUrl ? undefined : await testDatabase(options.name);
    if (db) undo.push(() => db.drop());
    const databaseUrl = options.infra?.databaseUrl ?? db!.url;
    // A nats-server of its own admits only an nkey identity per service, the admin and the test's.
    const nats = options.infra?.natsUrl ? undefined : await testNats({ seeds: generateNatsSeeds() });
    if (nats) undo.push(() => nats.stop());
    const natsUrl = options.infra?.natsUrl ?? nats!.url;
    const natsSeeds = options.infra?.natsUrl ? options.infra.natsSeeds : nats!.seeds;
    if (natsSeeds) {
      // As the Kubernetes migration step does: streams are the admin's, services only use them.
      await ensureStreamsAsAdmin(
        {
          NATS_URL: natsUrl,
          NATS_STREAM_REPLICAS: Number(options.env?.all?.NATS_STREAM_REPLICAS ?? 1),
          NATS_ADMIN_NKEY_SEED: natsSeeds.admin,
          ...natsTlsOf(options),
        },
        createLogger({ service: 'system', level: 'silent' }),
      );
      log('nats: streams ensured as the admin identity');
    }
    const smtpOptions = options.infra?.smtp;
    const smtp =
      smtpOptions === false || options.infra?.smtpUrl
        ? undefined
        : await startSmtpSink({ smtpPort: 0, httpPort: 0, ...smtpOptions });
    if (smtp) undo.push(() => smtp.close());
    const smtpUrl = options.infra?.smtpUrl ?? (smtp && `smtp://127.0.0.1:${smtp.smtpPort}?tls=off`);

    const selected = serviceTable.filter((entry) => options.services.includes(entry.name as ServiceName));
    // A role per service with its own schema only (ADR 0026), where the server lets us make them.
    const withData = selected.filter((entry) => !entry.http).map((entry) => entry.name);
    const noRoles = withData.length > 0 ? await ensureServiceRoles(databaseUrl, withData) : undefined;
    if (noRoles) log(`postgres: ${noRoles}; the services connect as the database's own user (ADR 0026)`);
    const databaseUrlOf = (name: string) => (noRoles ? databaseUrl : roleUrl(databaseUrl, name));
    for (const entry of selected) {
      const applied = await migrateService(entry.name as ServiceName, databaseUrl, !noRoles);
      if (applied !== undefined) log(`${entry.name}: ${applied} migration(s) applied`);
    }
    if (options.services.includes('users')) {
      log(await makeFirstAdmin(databaseUrl, auth, { ...options.env?.all, ...options.env?.users }));
    }
    const prefixWidth = Math.max(14, ...selected.map((e) => e.name.length + 3));

    const envOf = (name: ServiceName, extra: Record<string, string | undefined> = {}) => {
      const entry = serviceTable.find((e) => e.name === name)!;
      const firsts = new Map(
        [...running].flatMap(([n, replicas]) => (replicas[0] ? [[n, replicas[0]]] : [])),
      );
      const wiring = wiringEnv(name, firsts);
      return {
        // The gateway keeps no data, but counts its edge limits in NATS KV (ADR 0023).
        ...(entry.http ? { NATS_URL: natsUrl } : { DATABASE_URL: databaseUrlOf(name), NATS_URL: natsUrl }),
        ...(entry.smtp && smtpUrl ? { SMTP_URL: smtpUrl } : {}),
        ...wiring,
        ...identityEnv(name, auth),
        ...natsIdentityEnv(natsSeeds, name, false),
        ...options.env?.all,
        ...options.env?.[name],
        ...extra,
      };
    };
    const launch: Launch = {
      output: options.output,
      json: options.jsonOutput,
      log,
      prefixWidth,
      readyTimeoutMs: options.readyTimeoutMs ?? 20_000,
      signal: options.signal ?? new AbortController().signal,
    };
    const nextReplica = new Map<ServiceName, number>();
    const attempts = options.startAttempts ?? 1;
    const start = async (
      name: ServiceName,
      env: Record<string, string | undefined>,
      ports?: ServicePorts,
    ): Promise<ServiceUnderTest> => {
      const replicas = running.get(name) ?? [];
      running.set(name, replicas);
      // Taken now, before any await: replicas starting together get different numbers.
      const index = ports?.replica ?? nextReplica.get(name) ?? 0;
      if (ports?.replica === undefined) nextReplica.set(name, index + 1);
      const fixed = index === 0 ? options.ports?.[name] : undefined;
      const ownPorts = !(ports ?? fixed);
      const startOnce = async (): Promise<ServiceUnderTest> => {
        try {
          return await startServiceProcess(name, index, env, ports ?? fixed, launch, (spawned) => {
            replicas[index] = spawned; // stopped by stop() even if it never becomes ready
          });
        } catch (error) {
          const picked = replicas[index];
          if (ownPorts && picked && !launch.signal.aborted) {
            const taken = !(await isPortFree(picked.grpcPort)) || !(await isPortFree(picked.opsPort));
            if (taken) {
              log(`${picked.name}: a port was taken by another process as it started; trying fresh ports`);
              throw new PortTaken(error);
            }
          }
          throw error;
        }
      };
      // Ports picked here were free a moment before the child bound them; another process (a test
      // file running beside this one) may have taken one meanwhile. The failed child is gone, so a
      // port still in use is the other's: start again on fresh ports, up to 3 times, not counted
      // as a start attempt.
      const onFreshPorts = retry(handleType(PortTaken), { maxAttempts: 3 });
      // A process that exits during start-up (JetStream electing a leader, Postgres restarting)
      // is started again after a pause (500 ms, 1 s, …), as a kubelet would.
      const restarts = retry(
        handleWhen(() => !launch.signal.aborted),
        {
          maxAttempts: attempts - 1,
          backoff: new DelegateBackoff((context: IRetryBackoffContext<unknown>) => 500 * context.attempt),
        },
      );
      restarts.onRetry((reason) => {
        if ('error' in reason)
          options.onStartFailure?.(replicas[index]!, PortTaken.unwrap(reason.error) as Error);
      });
      try {
        return await restarts.execute(() => onFreshPorts.execute(startOnce), launch.signal);
      } catch (error) {
        throw PortTaken.unwrap(error);
      }
    };

    // Callees first; the replicas of one service start together.
    for (const entry of selected) {
      const name = entry.name as ServiceName;
      const count = options.replicas?.[name] ?? 1;
      const env = envOf(name);
      const starts = await Promise.allSettled(Array.from({ length: count }, () => start(name, env)));
      const failed = starts.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
    }

    const system: System = {
      databaseUrl,
      natsUrl,
      natsSeeds,
      natsOptions: (identity) => ({
        ...natsConnectOptions(natsUrl, natsSeeds, identity),
        ...natsTls(natsTlsOf(options)),
      }),
      get db() {
        return present(db, 'a database of its own (it was given infra.databaseUrl)');
      },
      get nats() {
        return present(nats, 'a nats-server of its own (it was given infra.natsUrl)');
      },
      get smtp() {
        return present(smtp, 'an SMTP sink (infra.smtp was false)');
      },
      auth,
      service(name, replica = 0) {
        const found = running.get(name)?.[replica];
        if (!found) throw new Error(`${name} replica ${replica} is not part of this system`);
        return found;
      },
      replicas: (name) => (running.get(name) ?? []).filter(Boolean),
      address: (name) => system.service(name).address,
      restart: (service, env = {}) =>
        start(service.name, { ...service.env, ...env }, { ...service, replica: service.replica }),
      addReplica: (name, env = {}) => start(name, envOf(name, env)),
      stop,
    };
    return system;
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * What a service is told of the services it calls (the service table's `calls`): `<NAME>_ADDR`,
 * and for an HTTP service (the gateway) also `<NAME>_OPS_URL` for its readiness and metrics pages.
 */
export function wiringEnv(
  name: string,
  running: ReadonlyMap<string, { address: string; opsUrl: string }>,
): Record<string, string> {
  const entry = serviceTable.find((e) => e.name === name);
  const wiring: Record<string, string> = {};
  for (const callee of entry?.calls ?? []) {
    const target = running.get(callee);
    if (!target) continue;
    wiring[`${envPrefix(callee)}_ADDR`] = target.address;
    if (entry?.http) wiring[`${envPrefix(callee)}_OPS_URL`] = target.opsUrl;
  }
  return wiring;
}

function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`this system has no ${what}`);
  return value;
}

interface ServicePorts {
  grpcPort: number;
  opsPort: number;
  replica?: number;
}

interface Launch {
  output: ((line: string) => void) | undefined;
  json: boolean | undefined;
  log: (line: string) => void;
  prefixWidth: number;
  readyTimeoutMs: number;
  signal: AbortSignal;
}

/** The identity settings a service gets, as deployed (ADR 0011, least privilege). */
function identityEnv(name: ServiceName, auth: SystemAuth): Record<string, string> {
  if (name === 'users') {
    return { USERS_SERVICE_SECRETS: `notifications=${auth.serviceSecret}` };
  }
  if (name === 'notifications') return { USERS_SERVICE_SECRET: auth.serviceSecret };
  return {};
}

/**
 * The first admin, as an operator makes it (users' bootstrap-admin; signing up never grants a
 * role): with the Argon2 cost users is configured with. Answers what happened, for the log.
 */
async function makeFirstAdmin(
  databaseUrl: string,
  auth: SystemAuth,
  usersEnv: Record<string, string | undefined>,
): Promise<string> {
  const { makeFirstAdmin: make } = (await import('@conveyor/users/first-admin')) as {
    makeFirstAdmin: (
      target: { databaseUrl: string; argon2: { memoryKiB: number; passes: number; parallelism: number } },
      input: { email: string; name: string; password: string },
    ) => Promise<{ kind: 'created' } | { kind: 'admin-exists'; email: string } | { kind: 'email-taken' }>;
  };
  const outcome = await make(
    {
      databaseUrl,
      argon2: {
        memoryKiB: Number(usersEnv.USERS_ARGON2_MEMORY_KIB ?? 19_456),
        passes: Number(usersEnv.USERS_ARGON2_PASSES ?? 2),
        parallelism: Number(usersEnv.USERS_ARGON2_PARALLELISM ?? 1),
      },
    },
    { email: auth.adminEmail, name: 'Admin', password: auth.adminPassword },
  );
  if (outcome.kind === 'created') return `users: ${auth.adminEmail} is the first admin`;
  if (outcome.kind === 'admin-exists' && outcome.email === auth.adminEmail) {
    return `users: ${auth.adminEmail} is the admin already`;
  }
  return outcome.kind === 'admin-exists'
    ? `users: another admin exists in this database, so ${auth.adminEmail} was not made one`
    : `users: ${auth.adminEmail} is a customer's address in this database, so it was not made an admin`;
}

/** Applies a service's own migrations (its package exports them); undefined for the gateway (none). */
/** TLS to NATS as every service of the system is told (env.all's NATS_TLS_*). */
function natsTlsOf(options: SystemOptions) {
  const all = options.env?.all ?? {};
  return {
    NATS_TLS_CA_FILE: all.NATS_TLS_CA_FILE,
    NATS_TLS_CERT_FILE: all.NATS_TLS_CERT_FILE,
    NATS_TLS_KEY_FILE: all.NATS_TLS_KEY_FILE,
  };
}

async function migrateService(
  name: ServiceName,
  url: string,
  withRole: boolean,
): Promise<number | undefined> {
  if (serviceTable.find((e) => e.name === name)?.http) return undefined;
  const { migrations, roleGrants } = (await import(`@conveyor/${name}/migrations`)) as {
    migrations: Migration[];
    roleGrants: Omit<ServiceRoleGrants, 'role'>;
  };
  const serviceRole = withRole ? { role: serviceRoleName(name), ...roleGrants } : undefined;
  return (await migrate({ url, schema: name, migrations, serviceRole })).length;
}

/**
 * Starts `services/<name>/src/main.ts` as a child process and waits until it is ready (its port
 * open, /readyz 200 with its checks); a process that exits first fails the start at once.
 */
async function startServiceProcess(
  name: ServiceName,
  replica: number,
  env: Record<string, string | undefined>,
  ports: ServicePorts | undefined,
  launch: Launch,
  onSpawned: (service: ServiceUnderTest) => void,
): Promise<ServiceUnderTest> {
  const grpcPort = ports?.grpcPort ?? (await freePort());
  const opsPort = ports?.opsPort ?? (await freePort());
  const http = serviceTable.find((e) => e.name === name)?.http === true;
  const fullEnv: Record<string, string | undefined> = {
    ...serviceRuntimeEnv(),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    ...env,
    ...(http ? { [`${envPrefix(name)}_PORT`]: String(grpcPort) } : { GRPC_PORT: String(grpcPort) }),
    OPS_PORT: String(opsPort),
  };
  const label = replica === 0 ? name : `${name}-${replica}`;
  const output = launch.output;
  const child = spawnService({
    name: label,
    command: process.execPath,
    args: [serviceSource(name, 'main.ts')],
    env: fullEnv,
    cwd: repoRoot,
    prefixWidth: launch.prefixWidth,
    ...(output && {
      color: false,
      json: launch.json,
      write: (text: string) => {
        for (const line of text.trimEnd().split('\n')) output(line);
      },
    }),
  });
  const service: ServiceUnderTest = {
    name,
    replica,
    grpcPort,
    opsPort,
    address: `127.0.0.1:${grpcPort}`,
    opsUrl: `http://127.0.0.1:${opsPort}`,
    env: fullEnv,
    process: child,
  };
  onSpawned(service);
  try {
    await awaitReady([{ name: label, opsUrl: service.opsUrl, grpcPort, process: child }], {
      timeoutMs: launch.readyTimeoutMs,
      signal: launch.signal,
      log: launch.log,
    });
  } catch (error) {
    await child.kill(); // never leave a service the caller cannot stop
    throw new Error(`${label} did not start: ${(error as Error).message}; its output is above`);
  }
  return service;
}
