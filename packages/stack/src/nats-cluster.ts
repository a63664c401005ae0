import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { handleWhen, retry } from 'cockatiel';
import { hasExited, terminateChild, waitForReady } from './child-control.ts';
import { followOutput, type OutputTail } from './child-output.ts';
import { trackChild } from './child-reaper.ts';
import { natsServerBinary } from './nats-binary.ts';
import { type NatsSeeds, writeNatsAuthorization } from './nats-identities.ts';
import { canConnect, freePort } from './net-utils.ts';
import { waitUntil } from './wait-until.ts';

const HOST = '127.0.0.1';

export interface NatsClusterOptions {
  /** Number of servers; JetStream needs 3 for R3 streams. Default 3. */
  size?: number;
  /** Each node keeps its JetStream store in `<baseDir>/<node name>`, reused across restarts. */
  baseDir: string;
  /** Cluster name, also the prefix of the node names. Default `conveyor`. */
  name?: string;
  log?: (node: string, line: string) => void;
  /** How long a node may take to start; default 15 s. */
  startTimeoutMs?: number;
  /** Identities every node admits (ADR 0025); without them they admit anyone. */
  seeds?: NatsSeeds | undefined;
}

export interface NatsNode {
  name: string;
  /** Client port. */
  port: number;
  clusterPort: number;
  /** HTTP monitoring port (/healthz, /routez, /jsz). */
  monitorPort: number;
  url: string;
  readonly pid: number;
  readonly running: boolean;
  /** SIGKILL (a crash); the store stays for restart(). */
  kill(): Promise<void>;
  /** SIGTERM (lame-duck-free shutdown), SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** Starts again on the same ports and store, stopping the current process first. */
  restart(): Promise<void>;
}

export interface NatsCluster {
  nodes: NatsNode[];
  /** Every node's client URL, comma-separated, as NATS_URL expects. */
  urls: string;
  /** The identities the nodes admit; undefined when they admit anyone. */
  seeds: NatsSeeds | undefined;
  /**
   * Waits until every running node answers /healthz (JetStream current: a meta
   * leader elected, its streams caught up) and is routed to every other running node.
   */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Stops every node (SIGTERM, SIGKILL after 10 s). */
  stop(): Promise<void>;
}

interface NodeSpec {
  name: string;
  port: number;
  clusterPort: number;
  monitorPort: number;
  storeDir: string;
}

function nodeArgs(node: NodeSpec, cluster: string, all: NodeSpec[], config: string | undefined): string[] {
  const routes = all.filter((n) => n !== node).map((n) => `nats://${HOST}:${n.clusterPort}`);
  return [
    ...(config ? ['-c', config] : []),
    '-js',
    '-a',
    HOST,
    '-p',
    String(node.port),
    '-m',
    String(node.monitorPort),
    '-sd',
    node.storeDir,
    '-n',
    node.name,
    '--cluster_name',
    cluster,
    '--cluster',
    `nats://${HOST}:${node.clusterPort}`,
    '--routes',
    routes.join(','),
  ];
}

async function monitor<T>(node: NodeSpec, path: string): Promise<{ status: number; body: T | undefined }> {
  const response = await fetch(`http://${HOST}:${node.monitorPort}${path}`, {
    signal: AbortSignal.timeout(1000),
  });
  const text = await response.text();
  let body: T | undefined;
  try {
    body = JSON.parse(text) as T;
  } catch {
    body = undefined;
  }
  return { status: response.status, body };
}

/**
 * Ports are found free and then bound by the servers: another process (a parallel test) can take
 * one in between. Up to 3 starts, each on fresh ports.
 */
const portTakenMeanwhile = retry(
  handleWhen((error) => error instanceof Error && /address already in use/.test(error.message)),
  { maxAttempts: 2 },
);

/**
 * A NATS cluster of local `nats-server` processes: client, route and
 * monitoring ports on 127.0.0.1, JetStream on every node, explicit routes
 * between all of them. For rehearsing node crashes with R3 streams.
 */
export function startNatsCluster(options: NatsClusterOptions): Promise<NatsCluster> {
  return portTakenMeanwhile.execute(async ({ attempt }) => {
    if (attempt > 0) {
      options.log?.(
        'nats',
        `a port was taken while the cluster started; starting again (attempt ${attempt + 1})`,
      );
      // A failed start holds nothing worth keeping: fresh ports and empty stores.
      const size = options.size ?? 3;
      const clusterName = options.name ?? 'conveyor';
      for (let i = 1; i <= size; i++) {
        await rm(join(options.baseDir, `${clusterName}-${i}`), { recursive: true, force: true });
      }
    }
    return startClusterOnce(options);
  });
}

async function startClusterOnce(options: NatsClusterOptions): Promise<NatsCluster> {
  const size = options.size ?? 3;
  if (size < 1 || size > 7) throw new Error(`a local NATS cluster has 1 to 7 nodes, not ${size}`);
  const clusterName = options.name ?? 'conveyor';
  const binary = await natsServerBinary((line) => options.log?.('nats', line));
  const specs: NodeSpec[] = [];
  for (let i = 1; i <= size; i++) {
    const name = `${clusterName}-${i}`;
    const storeDir = resolve(join(options.baseDir, name));
    await mkdir(storeDir, { recursive: true });
    specs.push({
      name,
      port: await freePort(),
      clusterPort: await freePort(),
      monitorPort: await freePort(),
      storeDir,
    });
  }

  await mkdir(options.baseDir, { recursive: true });
  const config = options.seeds
    ? await writeNatsAuthorization(resolve(join(options.baseDir, 'authorization.conf')), options.seeds)
    : undefined;
  const launch = async (spec: NodeSpec): Promise<{ child: ChildProcess; tail: OutputTail }> => {
    const child = spawn(binary, nodeArgs(spec, clusterName, specs, config), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackChild(child, 'SIGTERM');
    let ready = false;
    const tail = followOutput(child, (line) => {
      if (line.includes('Server is ready')) ready = true;
      options.log?.(spec.name, line);
    });
    await waitForReady(child, async () => ready && (await canConnect(HOST, spec.port)), {
      label: `nats-server ${spec.name} on ${HOST}:${spec.port}`,
      timeoutMs: options.startTimeoutMs ?? 15_000,
      tail,
    });
    return { child, tail };
  };

  // One node failing to start must not leave the others running.
  const settled = await Promise.allSettled(specs.map(launch));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(
      settled.map((s) =>
        s.status === 'fulfilled' ? terminateChild(s.value.child, 'SIGTERM', 10_000) : undefined,
      ),
    );
    throw failed.reason;
  }
  const running = settled.map(
    (s) => (s as PromiseFulfilledResult<{ child: ChildProcess; tail: OutputTail }>).value,
  );
  const nodes: NatsNode[] = specs.map((spec, i) => {
    let current = running[i]!;
    const halt = async (signal: NodeJS.Signals): Promise<void> => {
      await terminateChild(current.child, signal, 10_000);
      await current.tail.closed;
    };
    return {
      name: spec.name,
      port: spec.port,
      clusterPort: spec.clusterPort,
      monitorPort: spec.monitorPort,
      url: `nats://${HOST}:${spec.port}`,
      get pid() {
        return current.child.pid ?? 0;
      },
      get running() {
        return !hasExited(current.child);
      },
      kill: () => halt('SIGKILL'),
      stop: () => halt('SIGTERM'),
      async restart() {
        await halt('SIGTERM');
        current = await launch(spec);
      },
    };
  });

  const cluster: NatsCluster = {
    nodes,
    urls: nodes.map((n) => n.url).join(','),
    seeds: options.seeds,
    async waitHealthy(timeoutMs = 30_000) {
      let problem = 'not checked yet';
      await waitUntil(
        async () => {
          problem = await unhealthy(specs.filter((_, i) => nodes[i]!.running));
          return problem === '';
        },
        { timeoutMs, intervalMs: 200, message: 'NATS cluster not healthy' },
      ).catch(() => {
        throw new Error(`NATS cluster not healthy within ${timeoutMs} ms: ${problem}`);
      });
    },
    async stop() {
      await Promise.all(nodes.map((n) => (n.running ? n.stop() : undefined)));
    },
  };
  try {
    await cluster.waitHealthy();
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

/** Why the running nodes are not a healthy cluster yet, or '' when they are. */
async function unhealthy(up: NodeSpec[]): Promise<string> {
  for (const node of up) {
    try {
      const health = await monitor<{ status?: string; error?: string }>(node, '/healthz');
      if (health.status !== 200) return `${node.name}: /healthz ${health.status} ${health.body?.error ?? ''}`;
      const routes = await monitor<{ num_routes?: number }>(node, '/routez');
      if ((routes.body?.num_routes ?? 0) < up.length - 1) {
        return `${node.name}: ${routes.body?.num_routes ?? 0} of ${up.length - 1} routes`;
      }
    } catch (error) {
      return `${node.name}: ${(error as Error).message}`;
    }
  }
  return '';
}
