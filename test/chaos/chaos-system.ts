import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsIdentity } from '@conveyor/contracts';
import {
  createDatabase,
  type EmbeddedPostgresOptions,
  type FaultProxy,
  freePort,
  generateNatsSeeds,
  type NatsProcess,
  natsConnectOptions,
  roleUrl,
  type ServiceUnderTest,
  type SmtpSink,
  type System,
  startFaultProxy,
  startNatsServer,
  startSmtpSink,
  startSystem,
} from '@conveyor/stack';
import type { ConnectionOptions } from '@nats-io/transport-node';
import { startChaosPostgres } from './chaos-postgres.ts';
import { type SmallDisk, storeDisks } from './small-disk.ts';

export const CHAOS_MAIL_DOMAIN = 'chaos.conveyor.local';
const SERVICE_SECRET = 'chaos-service-secret-0123456789abcdef';
export type ServiceName = 'users' | 'orders' | 'notifications';
export const serviceNames: readonly ServiceName[] = ['users', 'orders', 'notifications'];

/** One service as a process behind its own fault proxies to NATS and Postgres. */
export interface ChaosService {
  readonly name: ServiceName;
  readonly grpcAddress: string;
  /** `http://127.0.0.1:<opsPort>`: /readyz, /metrics. */
  readonly opsUrl: string;
  readonly natsProxy: FaultProxy;
  readonly pgProxy: FaultProxy;
  /** orders only: its gRPC calls to users (VerifyToken, GetUser, keys) go through this proxy. */
  readonly usersProxy: FaultProxy | undefined;
  /** Pid of the current process (undefined while down). */
  readonly pid: number | undefined;
  /** Every pid this service ever had, to prove none is left behind. */
  readonly pids: readonly number[];
  readonly exited: Promise<number | null> | undefined;
  /** Starts it (again) on its ports and waits for /readyz; `extraEnv` applies to this start only. */
  start(extraEnv?: Record<string, string>): Promise<void>;
  /** SIGKILL, waits for the exit. */
  kill(): Promise<void>;
  /** SIGTERM, SIGKILL after the grace period. */
  stop(): Promise<void>;
  /**
   * Exits nobody asked for (e.g. a crash when Postgres restarts), as `exit <code>`; the
   * supervisor restarts such a process, as a kubelet would, and the report lists them.
   */
  readonly unplannedExits: readonly string[];
  /** Starts the service again when it exited by itself; true when it did. */
  supervise(): Promise<boolean>;
  /** The next exit is caused on purpose (a fault hook): restarted, not listed as unplanned. */
  expectExit(): void;
  /** Started and not exited since. */
  readonly running: boolean;
}

/** One more process of a service, on ports and proxies of its own, until stop(). */
export interface ChaosReplica {
  readonly name: ServiceName;
  readonly grpcAddress: string;
  readonly opsUrl: string;
  readonly natsProxy: FaultProxy;
  readonly pgProxy: FaultProxy;
  readonly pid: number | undefined;
  /** SIGTERM (SIGKILL after 10 s), then its proxies close; resolves once the process is gone. */
  stop(): Promise<void>;
}

export interface ChaosSystemOptions {
  /**
   * NATS's store and Postgres's WAL each on a small tmpfs of its own (`disks`), so experiments
   * can fill them; default: when running as root.
   */
  smallDisks?: boolean;
}

export interface ChaosSystem {
  databaseUrl: string;
  natsUrl: string;
  /** `connect()` options for its NATS (which admits only Conveyor's identities) as one identity. */
  natsOptions(identity?: NatsIdentity): ConnectionOptions;
  nats: NatsProcess;
  smtp: SmtpSink;
  services: Record<ServiceName, ChaosService>;
  /** Fast shutdown and start again on the same port and data (the proxies keep listening). */
  restartPostgres(): Promise<void>;
  /**
   * SIGKILL to the postmaster (a crash: no shutdown checkpoint), waits for its backends to go,
   * then starts it again on the same data (crash recovery from the WAL).
   */
  killPostgres(): Promise<void>;
  /** Starts Postgres again when it exited by itself (e.g. a PANIC it could not recover from); true when it did. */
  startPostgresIfDown(): Promise<boolean>;
  /** The small file systems of the stores, where the machine let us mount them. */
  disks: { nats: SmallDisk | undefined; postgresWal: SmallDisk | undefined };
  /** Starts one more replica of a service, reaching NATS and Postgres through proxies of its own. */
  addReplica(name: ServiceName): Promise<ChaosReplica>;
  /** Pids of nats-server processes started so far. */
  natsPids: number[];
  close(): Promise<void>;
}

/**
 * Everything the chaos experiments need, private to this run: an embedded
 * Postgres (its own data folder, so it can be restarted), a nats-server, an SMTP
 * sink, and users, orders and notifications as processes, each reaching NATS and
 * Postgres through its own fault-injecting proxy on loopback.
 */
export async function startChaosSystem(
  log: (line: string) => void,
  options: ChaosSystemOptions = {},
): Promise<ChaosSystem> {
  const dir = await mkdtemp(join(tmpdir(), 'conveyor-chaos-'));
  const cleanups: (() => Promise<void>)[] = [async () => rm(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const cleanup of cleanups.reverse())
      await cleanup().catch((e: Error) => log(`cleanup: ${e.message}`));
  };
  try {
    const disks = await storeDisks(dir, options.smallDisks ?? process.getuid?.() === 0, log);
    for (const disk of [disks.nats, disks.postgresWal]) if (disk) cleanups.push(() => disk.unmount());
    const pgPort = await freePort();
    const pgOptions: EmbeddedPostgresOptions = {
      dataDir: join(dir, 'pg'),
      port: pgPort,
      log: () => {},
      walDir: disks.postgresWal?.path,
      // Checkpoints often enough that the WAL stays well inside its small disk.
      settings: disks.postgresWal ? { max_wal_size: '96MB', min_wal_size: '32MB' } : {},
    };
    const postgres = await startChaosPostgres(pgOptions);
    cleanups.push(() => postgres.stop());
    const databaseUrl = await createDatabase(postgres.url, 'conveyor_chaos');
    const natsSeeds = generateNatsSeeds();
    const nats = await startNatsServer({
      storeDir: disks.nats?.path ?? join(dir, 'nats'),
      name: 'chaos',
      seeds: natsSeeds,
      // The streams' size limits add up to more than the small disk: JetStream must accept them.
      maxFileStore: disks.nats ? '64GB' : undefined,
    });
    const natsPids = [nats.pid];
    cleanups.push(() => nats.stop());
    const smtp = await startSmtpSink({ smtpPort: 0, capacity: 1_000_000 });
    cleanups.push(() => smtp.close());
    log(`postgres 127.0.0.1:${pgPort}, ${nats.url}, smtp 127.0.0.1:${smtp.smtpPort} (data in ${dir})`);

    // Each service reaches NATS and Postgres through its own proxies.
    const startProxies = async () => {
      const natsProxy = await startFaultProxy(nats.port);
      const pgProxy = await startFaultProxy(pgPort);
      return { natsProxy, pgProxy };
    };
    // As the builder connects it: the service's own role (ADR 0026), through the proxies.
    const proxiedEnv = (name: ServiceName, p: { natsProxy: FaultProxy; pgProxy: FaultProxy }) => {
      const proxiedDb = new URL(roleUrl(databaseUrl, name));
      proxiedDb.port = String(p.pgProxy.port);
      return { DATABASE_URL: proxiedDb.toString(), NATS_URL: `nats://${p.natsProxy.address}` };
    };
    const proxies = {} as Record<ServiceName, ServiceProxies>;
    const env: Partial<Record<ServiceName, Record<string, string>>> = {};
    for (const name of serviceNames) {
      const p = await startProxies();
      cleanups.push(
        () => p.natsProxy.close(),
        () => p.pgProxy.close(),
      );
      proxies[name] = { ...p, usersProxy: undefined };
      env[name] = proxiedEnv(name, p);
    }
    // orders calls users through a proxy too (users on fixed ports, so the proxy knows its target).
    const usersPorts = { grpcPort: await freePort(), opsPort: await freePort() };
    const usersProxy = await startFaultProxy(usersPorts.grpcPort);
    cleanups.push(() => usersProxy.close());
    proxies.orders.usersProxy = usersProxy;
    env.orders = { ...env.orders, USERS_ADDR: usersProxy.address };
    // Webhooks to a receiver on loopback (webhook-down-under-load).
    env.notifications = { ...env.notifications, WEBHOOK_ALLOW_LOOPBACK: 'true' };
    const system = await startSystem({
      name: 'chaos',
      services: serviceNames,
      ports: { users: usersPorts },
      infra: { databaseUrl, natsUrl: nats.url, natsSeeds, smtp: false },
      auth: { serviceSecret: SERVICE_SECRET },
      output: log,
      startAttempts: 5,
      onStartFailure: (service, error) =>
        log(`${service.name}: start failed, trying again: ${error.message}`),
      env: {
        all: {
          DATABASE_POOL_SIZE: '4',
          SHUTDOWN_GRACE_MS: '5000',
          LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
          PROJECTION_ACK_WAIT_MS: '5000',
          PROJECTION_BACKOFF_MS: '200,500,1000',
          SMTP_URL: `smtp://127.0.0.1:${smtp.smtpPort}?tls=off`,
          MAIL_DOMAIN: CHAOS_MAIL_DOMAIN,
          CONSUMER_BACKOFF_MS: '200,500,1000,2000',
          CONSUMER_MAX_DELIVER: '50',
          CONSUMER_ACK_WAIT_MS: '5000',
          // A killed replica's claimed deliveries come back after this (ADR 0018).
          DELIVERY_LEASE_MS: '5000',
        },
        ...env,
      },
    });
    cleanups.push(async () => {
      await system.stop();
    });
    const services = Object.fromEntries(
      serviceNames.map((name) => [name, supervised(system, name, proxies[name])]),
    ) as Record<ServiceName, ChaosService>;
    return {
      databaseUrl,
      natsUrl: nats.url,
      natsOptions: (identity) => natsConnectOptions(nats.url, natsSeeds, identity),
      nats,
      smtp,
      services,
      natsPids,
      restartPostgres: () => postgres.restart(),
      killPostgres: () => postgres.kill(),
      startPostgresIfDown: () => postgres.startIfDown(),
      disks,
      async addReplica(name) {
        const p = await startProxies();
        const closeProxies = () => Promise.all([p.natsProxy.close(), p.pgProxy.close()]);
        try {
          const replica = await system.addReplica(name, proxiedEnv(name, p));
          return {
            name,
            grpcAddress: replica.address,
            opsUrl: replica.opsUrl,
            ...p,
            pid: replica.process.pid,
            async stop() {
              await replica.process.stop(10_000);
              await closeProxies();
            },
          };
        } catch (error) {
          await closeProxies();
          throw error;
        }
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

interface ServiceProxies {
  natsProxy: FaultProxy;
  pgProxy: FaultProxy;
  usersProxy: FaultProxy | undefined;
}

/** A service of `system` that the run can kill and start again, and a supervisor restarts. */
function supervised(system: System, name: ServiceName, proxies: ServiceProxies): ChaosService {
  const first = system.service(name);
  let current: ServiceUnderTest | undefined = first;
  let state: 'down' | 'starting' | 'up' | 'crashed' = 'down';
  const pids: number[] = [];
  const unplannedExits: string[] = [];
  let exitExpected = false;
  const watch = (service: ServiceUnderTest) => {
    current = service;
    if (service.process.pid) pids.push(service.process.pid);
    state = 'up';
    void service.process.exited.then((code) => {
      if (current !== service || state !== 'up') return;
      state = 'crashed';
      if (exitExpected) exitExpected = false;
      else unplannedExits.push(`${name} exit ${code ?? 'by signal'}`);
    });
  };
  watch(first);
  return {
    name,
    grpcAddress: first.address,
    opsUrl: first.opsUrl,
    ...proxies,
    get pid() {
      return current?.process.pid;
    },
    pids,
    get exited() {
      return current?.process.exited;
    },
    unplannedExits,
    expectExit() {
      exitExpected = true;
    },
    get running() {
      return state === 'up';
    },
    async supervise() {
      if (state !== 'crashed') return false;
      await this.start();
      return true;
    },
    async start(extraEnv = {}) {
      state = 'starting';
      current = undefined;
      // The system starts a process that exits during start-up (Postgres restarting) again, 5 times.
      try {
        watch(await system.restart(first, extraEnv));
      } catch (error) {
        state = 'down';
        throw error;
      }
    },
    async kill() {
      state = 'down';
      await current?.process.kill();
      current = undefined;
    },
    async stop() {
      state = 'down';
      await current?.process.stop(10_000);
      current = undefined;
    },
  };
}
