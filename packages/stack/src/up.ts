/**
 * `./bin/conveyor up`: runs the whole system locally. Reuses PostgreSQL and NATS when they
 * answer (else starts embedded Postgres and nats-server with their data in .conveyor/),
 * starts the SMTP sink, migrates and starts every service, waits until all are ready and
 * prints the endpoints. Ctrl-C (or SIGTERM) stops what it started; a second Ctrl-C forces.
 */
import { mkdir } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { describeExit } from './launcher/await-ready.ts';
import { formatEndpoints } from './launcher/endpoints.ts';
import { startNats, startPostgres, startSink } from './launcher/infra.ts';
import { type LauncherConfig, launcherConfig } from './launcher/launcher-config.ts';
import { startLocalPrometheus } from './launcher/local-prometheus.ts';
import { checkServicePorts } from './launcher/ports.ts';
import { createProgress, displayPath } from './launcher/progress.ts';
import { repoRoot } from './launcher/repo-root.ts';
import { type StackFile, stackFilePath, writeStackFile } from './launcher/stack-file.ts';
import { claimStackFile, releaseStackFile } from './launcher/stack-lock.ts';
import { Teardown } from './launcher/teardown.ts';
import { redact } from './postgres-infra.ts';
import { type ServiceName, type ServiceUnderTest, type System, startSystem } from './system.ts';

const USAGE = `Usage: ./bin/conveyor up [--prometheus] [--help]

Runs Conveyor locally: PostgreSQL, NATS (JetStream), an SMTP sink, a webhook sink and every service.
Ctrl-C stops everything this command started; press it twice to force.

  --prometheus          also start Prometheus (/usr/bin/prometheus, Debian package prometheus)
                        scraping every service, with the alert rules loaded; prints its URL

Environment (all optional):
  DATABASE_URL          PostgreSQL server to use (default postgres://postgres@127.0.0.1:5432/postgres;
                        embedded Postgres on 127.0.0.1:54329 when it does not answer)
  CONVEYOR_DATABASE     database the services use (default conveyor)
  NATS_URL              NATS server with JetStream (default nats://127.0.0.1:4222; else nats-server)
  SMTP_PORT, SMTP_WEB_PORT                  SMTP sink ports (default 1025, 8025)
  WEBHOOK_SINK_PORT     webhook sink port (default 9999)
  USERS_GRPC_PORT, USERS_OPS_PORT, ...      a service's ports (<SERVICE>_GRPC_PORT, <SERVICE>_OPS_PORT)
  LOG_LEVEL             services' log level (default info)
  CONVEYOR_LOG_JSON=1   print the services' raw JSON log lines
  CONVEYOR_HOME         state folder (default <repo>/.conveyor)
  PROMETHEUS_PORT       Prometheus port with --prometheus (default 9090)
  OTEL_EXPORTER_OTLP_ENDPOINT   send the services' traces there (e.g. Jaeger's http://127.0.0.1:4318)
`;

const progress = createProgress();
const teardown = new Teardown();
const stopping = new AbortController();
let system: System | undefined;
const running = (): ServiceUnderTest[] =>
  (['users', 'orders', 'notifications', 'gateway'] as const).flatMap((name) => system?.replicas(name) ?? []);
let stackPath: string | undefined;
let withPrometheus = false;

function parseFlags(): boolean {
  try {
    const { values } = parseArgs({
      options: { help: { type: 'boolean', short: 'h' }, prometheus: { type: 'boolean' } },
      strict: true,
    });
    if (values.help) process.stdout.write(USAGE);
    withPrometheus = values.prometheus === true;
    return values.help !== true;
  } catch (error) {
    process.stderr.write(`conveyor up: ${(error as Error).message.split('. To specify')[0]}\n\n${USAGE}`);
    process.exit(64);
  }
}

function onSignal(signal: NodeJS.Signals): void {
  if (!stopping.signal.aborted) {
    progress.stop(`${signal}: stopping (press Ctrl-C again to force)`);
    stopping.abort(new Error(signal));
    return;
  }
  progress.stop('forced: killing the services; servers started here get their stop signal as this exits');
  void Promise.race([
    Promise.all(running().map((service) => service.process.kill())),
    new Promise((resolve) => setTimeout(resolve, 2000)),
  ]).finally(async () => {
    if (stackPath) await releaseStackFile(stackPath).catch(() => {});
    process.exit(130);
  });
}

/** Resolves when the stack should stop: on a signal (undefined) or a service's exit (a message). */
async function untilStop(services: readonly ServiceUnderTest[]): Promise<string | undefined> {
  const aborted = new Promise<undefined>((resolve) =>
    stopping.signal.addEventListener('abort', () => resolve(undefined), { once: true }),
  );
  const exits = services.map((service) =>
    service.process.exited.then((code) => `${service.name} exited (${describeExit(code)})`),
  );
  const reason = await Promise.race([aborted, ...exits]);
  // A Ctrl-C in the terminal reaches the services too; their exit then is no failure.
  await new Promise((resolve) => setTimeout(resolve, 200));
  return stopping.signal.aborted ? undefined : reason;
}

async function start(config: LauncherConfig): Promise<number> {
  const started = Date.now();
  const check = (): void => stopping.signal.throwIfAborted();
  if (config.services.length === 0) throw new Error('no service found under services/*/src/main.ts');
  await checkServicePorts(config.services);
  const postgres = await startPostgres(config, progress, teardown);
  check();
  const nats = await startNats(config, progress, teardown);
  check();
  const sink = await startSink(config, progress, teardown);
  check();
  const names = config.services.map((planned) => planned.entry.name as ServiceName);
  progress.step('services', `starting ${names.join(', ')}, callees first`);
  const built = await startSystem({
    name: config.database,
    services: names,
    ports: Object.fromEntries(
      config.services.map((p) => [p.entry.name, { grpcPort: p.grpcPort, opsPort: p.opsPort }]),
    ),
    infra: {
      databaseUrl: postgres.url,
      natsUrl: nats.url,
      natsSeeds: nats.seeds,
      smtpUrl: `smtp://127.0.0.1:${sink.smtpPort}?tls=off`,
    },
    // Local development: the first admin (ship, deliver, dlq, webhooks), as an operator would make it.
    auth: LOCAL_ADMIN,
    env: {
      all: {
        // Each service keeps its own default schema, whatever the launcher's shell says.
        DATABASE_SCHEMA: undefined,
        GRPC_HOST: '127.0.0.1',
        OPS_HOST: '127.0.0.1',
        LOG_LEVEL: config.logLevel,
      },
      // Local development: webhooks may point at a receiver on this machine.
      notifications: { WEBHOOK_ALLOW_LOOPBACK: 'true' },
    },
    log: (line) => progress.step('services', line),
    readyTimeoutMs: config.readyTimeoutMs,
    signal: stopping.signal,
  });
  system = built;
  teardown.add('services', () => built.stop(config.stopGraceMs));
  const services = running();

  const stack: StackFile = {
    startedAt: new Date(started).toISOString(),
    pid: process.pid,
    status: 'running',
    services: Object.fromEntries(
      services
        .filter((s) => s.name !== 'gateway')
        .map((s) => [s.name, { grpc: s.address, ops: s.opsUrl, pid: s.process.pid }]),
    ),
    web: Object.fromEntries(
      services.filter((s) => s.name === 'gateway').map((s) => [s.name, `http://${s.address}`]),
    ),
    webOps: Object.fromEntries(services.filter((s) => s.name === 'gateway').map((s) => [s.name, s.opsUrl])),
    postgres: redact(postgres.url),
    nats: nats.url,
    smtp: { smtp: `127.0.0.1:${sink.smtpPort}`, web: `http://127.0.0.1:${sink.webPort}` },
    webhookSink: sink.webhookUrl,
  };
  const prometheus = withPrometheus
    ? await startLocalPrometheus({
        services: services.map((s) => ({ name: s.name, opsUrl: s.opsUrl })),
        repoRoot,
        progress,
        teardown,
      })
    : undefined;
  await writeStackFile(stackFilePath(config.home), stack);
  process.stdout.write(
    formatEndpoints(stack, {
      postgres: postgres.note,
      nats: nats.note,
      stackFile: displayPath(stackFilePath(config.home)),
      readySeconds: (Date.now() - started) / 1000,
    }),
  );
  if (prometheus) process.stdout.write(`  Prometheus: ${prometheus.url}  (try /graph or /alerts)\n\n`);
  process.stdout.write(
    `  Admin:      ${LOCAL_ADMIN.adminEmail}, password '${LOCAL_ADMIN.adminPassword}' (this machine only)\n\n`,
  );

  const failure = await untilStop(services);
  if (failure === undefined) return 0;
  progress.error(`${failure}; stopping the stack`);
  return 1;
}

/** The local stack's first admin: the README tour logs in with it. */
const LOCAL_ADMIN = { adminEmail: 'admin@conveyor.local', adminPassword: 'local-admin-password' };

async function main(): Promise<number> {
  if (!parseFlags()) return 0;
  let config: LauncherConfig;
  try {
    config = launcherConfig();
  } catch (error) {
    progress.error((error as Error).message);
    return 1;
  }
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
  await mkdir(config.home, { recursive: true });
  const claim = await claimStackFile(stackFilePath(config.home), progress);
  if (!claim) return 1;
  stackPath = claim;
  teardown.add('stack file', async () => {
    await releaseStackFile(claim);
    return `removed ${displayPath(claim)}`;
  });

  let code: number;
  try {
    code = await start(config);
  } catch (error) {
    if (stopping.signal.aborted) code = 0;
    else {
      progress.error((error as Error).message);
      code = 1;
    }
  }
  await teardown.run((line) => progress.stop(line));
  progress.stop(code === 0 ? 'stopped' : `stopped (exit code ${code})`);
  return code;
}

process.exit(await main());
