// Builds Conveyor's four images with podman and runs them the way docker-compose.yml does: its
// one-shots in order, then its services with the environment it gives them and its hardening
// (read-only root filesystem, uid 1000, every capability dropped, tmpfs /tmp). Compose's
// third-party images cannot be pulled here, so this machine's Postgres and a NATS (admitting
// compose's dev nkeys) and SMTP sink started here stand in for them: only the endpoints in the
// environment are replaced (hosts, free ports), and the report names each replaced variable.
// Places an order through the containerised gateway, sees its mail, then stops every container
// with SIGTERM (issue 20).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsSeeds } from '@conveyor/stack';
import { ensureServiceRoles, freePort, generateNatsSeeds, startSmtpSink, waitUntil } from '@conveyor/stack';
import { testDatabase, testNats } from '@conveyor/stack/testing';
import { parse, parseAllDocuments } from 'yaml';
import { type ComposeFile, environment, interpolate } from '../deploy/compose-checks.ts';
import { BASE_IMAGE, baseImageExists, buildBaseImage } from './base-image.ts';
import { detectPodman, ensurePodmanInstalled, freeMegabytes, podmanCommand } from './podman.ts';

export const SERVICES = ['users', 'orders', 'notifications', 'gateway'] as const;
type Service = (typeof SERVICES)[number];
const NEEDED_MB = 3000;
const GRACE_MS = 10_000;

export interface ContainerFigures {
  service: Service;
  imageMb: number;
  buildSeconds: number;
  readySeconds: number;
  stopSeconds: number;
  exitCode: number;
}

export interface ContainersReport {
  workarounds: string[];
  /** Compose variables given another value here (endpoints), by container; everything else as compose says. */
  replaced: Record<string, string[]>;
  baseImageSeconds: number | undefined;
  orderMailSeconds: number;
  containers: ContainerFigures[];
}

export async function runContainers(root: string, log: (line: string) => void): Promise<ContainersReport> {
  await ensurePodmanInstalled(log);
  const free = await freeMegabytes();
  if (free < NEEDED_MB) {
    throw new Error(`containers need about ${NEEDED_MB} MB free under /var/lib/containers; ${free} MB are`);
  }
  const bare = podmanCommand([], []);
  let baseImageSeconds: number | undefined;
  if (!(await baseImageExists(bare))) {
    const started = performance.now();
    await buildBaseImage(bare, log);
    baseImageSeconds = seconds(started);
  }
  const podman = await detectPodman(BASE_IMAGE);
  for (const workaround of podman.workarounds) log(`podman: ${workaround}`);

  const builds = new Map<Service, number>();
  for (const service of SERVICES) {
    const started = performance.now();
    log(`building conveyor/${service}:local`);
    await podman(
      [
        'build',
        '--format',
        'docker',
        '--build-arg',
        `SERVICE=${service}`,
        '--build-arg',
        `NODE_IMAGE=${BASE_IMAGE}`,
        '-t',
        `conveyor/${service}:local`,
        root,
      ],
      { timeoutMs: 600_000 },
    );
    builds.set(service, seconds(started));
  }
  // Earlier builds of these tags, left untagged: about 300 MB each, every run that changed a source.
  await podman(['image', 'prune', '-f']);

  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), {
    merge: true,
  }) as ComposeFile;
  const db = await testDatabase('containers');
  // Compose's NATS admits the dev nkeys (deploy/compose/nats-auth.conf): so does this one.
  const devSecrets = parseAllDocuments(
    readFileSync(join(root, 'deploy/k8s/overlays/dev/secrets.yaml'), 'utf8'),
  ).map((d) => d.toJS());
  const seeds = {
    ...generateNatsSeeds(),
    ...devSecrets.find((d) => d.metadata.name === 'conveyor-nats-identities').stringData,
  } as NatsSeeds;
  const nats = await testNats({ seeds });
  const smtp = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
  const names: string[] = [];
  const cleanup = async () => {
    for (const name of names) await podman(['rm', '-f', '-t', '0', name]).catch(() => {});
    await smtp.close();
    await nats.stop();
    await db.drop();
  };
  try {
    const roles = await ensureServiceRoles(db.url, ['users', 'orders', 'notifications']);
    if (roles) throw new Error(`database roles: ${roles}`);
    const run = randomUUID().slice(0, 8);
    const ports = Object.fromEntries(
      await Promise.all(
        SERVICES.map(async (s) => [s, { main: await freePort(), ops: await freePort() }] as const),
      ),
    ) as Record<Service, { main: number; ops: number }>;
    // As compose runs them (docker-compose.yml, x-service): nothing writable but /tmp.
    const hardening = [
      '--network',
      'host',
      '--read-only',
      '--tmpfs',
      '/tmp',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      '--user',
      '1000:1000',
    ];
    const envArgs = (env: Record<string, string>) =>
      Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const replaced: Record<string, string[]> = {};
    /** Compose's environment for `name`, its endpoints pointed at what stands in here. */
    const envOf = (name: string): Record<string, string> => {
      const given = compose.services[name];
      if (!given) throw new Error(`docker-compose.yml has no service ${name}`);
      const out: Record<string, string> = {};
      const changed: string[] = [];
      for (const [key, raw] of Object.entries(environment(given))) {
        const value = interpolate(String(raw));
        const local = endpoint(key, value);
        if (local === undefined) out[key] = value;
        else if (local !== null) out[key] = local;
        if (local !== undefined) changed.push(key);
      }
      const service = SERVICES.find((s) => s === name);
      if (service) {
        // Compose's fixed ports would collide with other work on this machine.
        out.OPS_PORT = String(ports[service].ops);
        out[service === 'gateway' ? 'GATEWAY_PORT' : 'GRPC_PORT'] = String(ports[service].main);
        out[service === 'gateway' ? 'GATEWAY_HOST' : 'GRPC_HOST'] = '127.0.0.1';
        out.OPS_HOST = '127.0.0.1';
        changed.push('OPS_PORT', service === 'gateway' ? 'GATEWAY_PORT' : 'GRPC_PORT');
      }
      if (process.env.CONTAINERS_LOG_LEVEL) out.LOG_LEVEL = process.env.CONTAINERS_LOG_LEVEL;
      replaced[name] = changed;
      return out;
    };
    const servicePorts: Record<string, Service> = {
      '50051': 'users',
      '50052': 'orders',
      '50053': 'notifications',
      '9101': 'users',
      '9102': 'orders',
      '9103': 'notifications',
    };
    /** A compose endpoint's stand-in: a value, null to leave it unset, undefined when not an endpoint. */
    const endpoint = (key: string, value: string): string | null | undefined => {
      if (key === 'DATABASE_URL') {
        const url = new URL(value);
        const here = new URL(db.url);
        // The owner here is the server's own user; a service role keeps compose's name.
        if (url.username === 'conveyor') {
          url.username = here.username;
          url.password = here.password;
        }
        url.host = here.host;
        url.pathname = here.pathname;
        return url.toString();
      }
      if (key === 'NATS_URL') return nats.url;
      if (key === 'SMTP_URL') return `smtp://127.0.0.1:${smtp.smtpPort}?tls=off`;
      // No Jaeger here: traces are not exported.
      if (key === 'OTEL_EXPORTER_OTLP_ENDPOINT') return null;
      const hostPort = /^(?:(https?):\/\/)?(users|orders|notifications):(\d+)$/.exec(value);
      if (hostPort) {
        const service = servicePorts[hostPort[3]!]!;
        const port = hostPort[3]!.startsWith('9') ? ports[service].ops : ports[service].main;
        return `${hostPort[1] ? `${hostPort[1]}://` : ''}127.0.0.1:${port}`;
      }
      return undefined;
    };

    // Compose's one-shots, in its order: each service's migrations, then the first admin.
    for (const oneShot of [
      'users-migrate',
      'orders-migrate',
      'notifications-migrate',
      'users-bootstrap-admin',
    ]) {
      const given = compose.services[oneShot]!;
      log(`${oneShot}: ${[given.command].flat().join(' ')}`);
      await podman([
        'run',
        '--rm',
        ...hardening,
        ...envArgs(envOf(oneShot)),
        String(given.image),
        ...[given.command].flat().map(String),
      ]);
    }

    const ready = new Map<Service, number>();
    for (const service of SERVICES) {
      const name = `conveyor-${service}-${run}`;
      const started = performance.now();
      await podman([
        'run',
        '-d',
        '--name',
        name,
        ...hardening,
        ...envArgs(envOf(service)),
        String(compose.services[service]!.image),
      ]);
      names.push(name);
      // The image's own HEALTHCHECK command (GET /readyz on the ops port), run until it passes.
      await waitUntil(
        () =>
          podman(['healthcheck', 'run', name], { timeoutMs: 10_000 }).then(
            () => true,
            () => false,
          ),
        { timeoutMs: 60_000, intervalMs: 250, message: `${service} did not become healthy` },
      ).catch(async (error: Error) => {
        const logs = await podman(['logs', '--tail', '30', name]).catch(
          (e: Error) => `(no logs: ${e.message})`,
        );
        const state = await podman([
          'inspect',
          '--format',
          '{{.State.Status}} {{.State.ExitCode}}',
          name,
        ]).catch(() => '');
        throw new Error(`${error.message} (container ${state.trim()})\n${logs}`);
      });
      ready.set(service, seconds(started));
      log(`${service}: healthy after ${ready.get(service)} s`);
    }

    // An order through the containerised gateway, and its mail.
    const started = performance.now();
    const gateway = `http://127.0.0.1:${ports.gateway.main}`;
    const email = `containers-${run}@example.com`;
    const password = 'containers correct horse';
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${gateway}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const signedUp = await post('/api/signup', { email, name: 'Container Customer', password });
    if (signedUp.status !== 202) throw new Error(`sign-up answered ${signedUp.status}`);
    const login = await post('/api/login', { email, password });
    if (login.status !== 200) throw new Error(`login answered ${login.status}`);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const products = (await (await fetch(`${gateway}/api/products`)).json()) as {
      products: { sku: string }[];
    };
    const placed = await post(
      '/api/orders',
      { items: [{ sku: products.products[0]!.sku, quantity: 1 }] },
      { cookie, 'idempotency-key': randomUUID() },
    );
    if (placed.status !== 201)
      throw new Error(`placing the order answered ${placed.status}: ${await placed.text()}`);
    await smtp.waitFor((m) => m.to.includes(email) && /^Order \w+ confirmed$/.test(m.subject), {
      timeoutMs: 20_000,
    });
    const orderMailSeconds = seconds(started);
    log(`order placed through the gateway container; its mail arrived after ${orderMailSeconds} s`);

    // SIGTERM (the image's STOPSIGNAL), then SIGKILL after the grace: each must drain and exit 0 in time.
    const containers: ContainerFigures[] = [];
    for (const service of [...SERVICES].reverse()) {
      const name = names[SERVICES.indexOf(service)]!;
      const stopping = performance.now();
      await podman(['stop', '-t', String(GRACE_MS / 1000 + 5), name], { timeoutMs: 60_000 });
      const stopSeconds = seconds(stopping);
      const exitCode = Number((await podman(['inspect', '--format', '{{.State.ExitCode}}', name])).trim());
      const bytes = Number(
        (await podman(['image', 'inspect', '--format', '{{.Size}}', `conveyor/${service}:local`])).trim(),
      );
      containers.unshift({
        service,
        imageMb: Math.round(bytes / 1e6),
        buildSeconds: builds.get(service)!,
        readySeconds: ready.get(service)!,
        stopSeconds,
        exitCode,
      });
    }
    return { workarounds: podman.workarounds, replaced, baseImageSeconds, orderMailSeconds, containers };
  } finally {
    await cleanup();
  }
}

/** Why a report does not pass: a container that did not exit 0 within its grace. */
export function containerFailures(report: ContainersReport): string[] {
  return report.containers.flatMap((c) => [
    ...(c.exitCode === 0 ? [] : [`${c.service} exited ${c.exitCode} on SIGTERM`]),
    ...(c.stopSeconds <= GRACE_MS / 1000
      ? []
      : [`${c.service} took ${c.stopSeconds} s to stop (grace ${GRACE_MS / 1000} s)`]),
  ]);
}

export function formatContainersReport(report: ContainersReport): string {
  const rows = report.containers.map(
    (c) =>
      `| ${c.service} | ${c.imageMb} MB | ${c.buildSeconds} s | ${c.readySeconds} s | ${c.stopSeconds} s | ${c.exitCode} |`,
  );
  return [
    '| image | size | build | healthy after | stop (SIGTERM) | exit |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `order placed through the gateway container to its mail: ${report.orderMailSeconds} s`,
    ...(report.baseImageSeconds !== undefined ? [`base image made in ${report.baseImageSeconds} s`] : []),
    ...report.workarounds.map((w) => `podman: ${w}`),
    ...Object.entries(report.replaced).map(
      ([name, keys]) => `${name}: compose's environment, endpoints replaced: ${keys.join(', ') || 'none'}`,
    ),
  ].join('\n');
}

function seconds(since: number): number {
  return Math.round((performance.now() - since) / 100) / 10;
}
