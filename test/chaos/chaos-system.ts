import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { migrate } from '@conveyor/platform';
import {
  createDatabase,
  type EmbeddedPostgres,
  freePort,
  type NatsProcess,
  type ServiceProcess,
  type SmtpSink,
  serviceRuntimeEnv,
  spawnService,
  startEmbeddedPostgres,
  startNatsServer,
  startSmtpSink,
} from '@conveyor/stack';
import { probeReadyz } from '@conveyor/stack/readyz';
import { migrations as notificationMigrations } from '../../services/notifications/src/adapters/migrations.ts';
import { migrations as orderMigrations } from '../../services/orders/src/adapters/migrations.ts';
import { migrations as userMigrations } from '../../services/users/src/adapters/migrations.ts';
import { authEnvFor, repoRoot } from '../support/service-processes.ts';
import { type FaultProxy, startFaultProxy } from './fault-proxy.ts';

export const CHAOS_MAIL_DOMAIN = 'chaos.conveyor.local';
export const CHAOS_ADMIN_EMAIL = 'admin@conveyor.test';
const SERVICE_SECRET = 'chaos-service-secret-0123456789abcdef';
export type ServiceName = 'users' | 'orders' | 'notifications';
export const serviceNames: readonly ServiceName[] = ['users', 'orders', 'notifications'];

/** One service as a process behind its own fault proxies to NATS and Postgres. */
export interface ChaosService {
  readonly name: ServiceName;
  readonly grpcAddress: string;
  readonly natsProxy: FaultProxy;
  readonly pgProxy: FaultProxy;
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

export interface ChaosSystem {
  databaseUrl: string;
  natsUrl: string;
  nats: NatsProcess;
  smtp: SmtpSink;
  services: Record<ServiceName, ChaosService>;
  /** Fast shutdown and start again on the same port and data (the proxies keep listening). */
  restartPostgres(): Promise<void>;
  /** Pids of nats-server processes started so far. */
  natsPids: number[];
  close(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;

/**
 * Everything the chaos experiments need, private to this run: an embedded
 * Postgres (its own data folder, so it can be restarted), a nats-server, an SMTP
 * sink, and users, orders and notifications as processes, each reaching NATS and
 * Postgres through its own fault-injecting proxy on loopback.
 */
export async function startChaosSystem(log: (line: string) => void): Promise<ChaosSystem> {
  const dir = await mkdtemp(join(tmpdir(), 'conveyor-chaos-'));
  const cleanups: (() => Promise<void>)[] = [async () => rm(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const cleanup of cleanups.reverse())
      await cleanup().catch((e: Error) => log(`cleanup: ${e.message}`));
  };
  try {
    const pgPort = await freePort();
    const pgOptions = { dataDir: join(dir, 'pg'), port: pgPort, log: () => {} };
    let postgres: EmbeddedPostgres = await startEmbeddedPostgres(pgOptions);
    cleanups.push(() => postgres.stop());
    const databaseUrl = await createDatabase(postgres.url, 'conveyor_chaos');
    for (const [schema, list] of [
      ['users', userMigrations],
      ['orders', orderMigrations],
      ['notifications', notificationMigrations],
    ] as const) {
      await migrate({ url: databaseUrl, schema, migrations: list });
    }
    const nats = await startNatsServer({ storeDir: join(dir, 'nats'), name: 'chaos' });
    const natsPids = [nats.pid];
    cleanups.push(() => nats.stop());
    const smtp = await startSmtpSink({ smtpPort: 0, capacity: 1_000_000 });
    cleanups.push(() => smtp.close());
    log(`postgres 127.0.0.1:${pgPort}, ${nats.url}, smtp 127.0.0.1:${smtp.smtpPort} (data in ${dir})`);

    const services = {} as Record<ServiceName, ChaosService>;
    const grpcPorts = Object.fromEntries(
      await Promise.all(serviceNames.map(async (n) => [n, await freePort()] as const)),
    ) as Record<ServiceName, number>;
    for (const name of serviceNames) {
      const natsProxy = await startFaultProxy(nats.port);
      const pgProxy = await startFaultProxy(pgPort);
      cleanups.push(
        () => natsProxy.close(),
        () => pgProxy.close(),
      );
      const proxiedDb = new URL(databaseUrl);
      proxiedDb.port = String(pgProxy.port);
      const env: Record<string, string> = {
        DATABASE_URL: proxiedDb.toString(),
        DATABASE_POOL_SIZE: '4',
        NATS_URL: `nats://${natsProxy.address}`,
        SHUTDOWN_GRACE_MS: '5000',
        ...authEnvFor(name, { adminEmail: CHAOS_ADMIN_EMAIL, serviceSecret: SERVICE_SECRET }),
        USERS_ADDR: `127.0.0.1:${grpcPorts.users}`,
        PROJECTION_ACK_WAIT_MS: '5000',
        PROJECTION_BACKOFF_MS: '200,500,1000',
        SMTP_URL: `smtp://127.0.0.1:${smtp.smtpPort}?tls=off`,
        MAIL_DOMAIN: CHAOS_MAIL_DOMAIN,
        CONSUMER_BACKOFF_MS: '200,500,1000,2000',
        CONSUMER_MAX_DELIVER: '50',
        CONSUMER_ACK_WAIT_MS: '5000',
        // A killed replica's claimed deliveries come back after this (ADR 0018).
        DELIVERY_LEASE_MS: '5000',
      };
      services[name] = serviceProcess(name, env, grpcPorts[name], await freePort(), natsProxy, pgProxy, log);
      cleanups.push(() => services[name].stop());
    }
    // users first: orders and notifications call it.
    await services.users.start();
    // allSettled: a failed start must not leave the other one starting while everything is closed.
    const starts = await Promise.allSettled([services.orders.start(), services.notifications.start()]);
    for (const start of starts) if (start.status === 'rejected') throw start.reason;
    return {
      databaseUrl,
      natsUrl: nats.url,
      nats,
      smtp,
      services,
      natsPids,
      async restartPostgres() {
        await postgres.stop();
        postgres = await startEmbeddedPostgres(pgOptions);
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

function serviceProcess(
  name: ServiceName,
  env: Record<string, string>,
  grpcPort: number,
  opsPort: number,
  natsProxy: FaultProxy,
  pgProxy: FaultProxy,
  log: (line: string) => void,
): ChaosService {
  let current: ServiceProcess | undefined;
  let state: 'down' | 'starting' | 'up' | 'crashed' = 'down';
  const pids: number[] = [];
  const unplannedExits: string[] = [];
  let exitExpected = false;
  const launch = (extraEnv: Record<string, string>) =>
    spawnService({
      name,
      command: process.execPath,
      args: [`services/${name}/src/main.ts`],
      env: {
        ...serviceRuntimeEnv(),
        ...env,
        ...extraEnv,
        GRPC_PORT: String(grpcPort),
        OPS_PORT: String(opsPort),
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
      },
      cwd: repoRoot,
      color: false,
      write: (text) => {
        for (const line of text.trimEnd().split('\n')) log(line);
      },
    });
  return {
    name,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    natsProxy,
    pgProxy,
    get pid() {
      return current?.pid;
    },
    pids,
    get exited() {
      return current?.exited;
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
      // Bounded: a process that exits during start-up (e.g. Postgres still restarting) is started again.
      const deadline = Date.now() + READY_TIMEOUT_MS * 2;
      for (let attempt = 1; ; attempt++) {
        const child = launch(extraEnv);
        current = child;
        if (child.pid) pids.push(child.pid);
        let exited = false;
        void child.exited.then(() => {
          exited = true;
        });
        const until = Date.now() + READY_TIMEOUT_MS;
        while (!exited && Date.now() < until) {
          if ((await probeReadyz(`http://127.0.0.1:${opsPort}`)).ready) {
            state = 'up';
            void child.exited.then((code) => {
              if (current !== child || state !== 'up') return;
              state = 'crashed';
              if (exitExpected) exitExpected = false;
              else unplannedExits.push(`${name} exit ${code ?? 'by signal'}`);
            });
            return;
          }
          await sleep(100);
        }
        await child.kill();
        if (Date.now() > deadline || attempt >= 5) {
          state = 'down';
          throw new Error(`${name} did not become ready`);
        }
        await sleep(500 * attempt);
      }
    },
    async kill() {
      state = 'down';
      await current?.kill();
      current = undefined;
    },
    async stop() {
      state = 'down';
      await current?.stop(10_000);
      current = undefined;
    },
  };
}
