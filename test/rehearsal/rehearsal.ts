import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  generateNatsSeeds,
  type NatsCluster,
  natsConnectOptions,
  type ServiceName,
  type ServiceUnderTest,
  type System,
  startNatsCluster,
  startSmtpSink,
  startSystem,
} from '@conveyor/stack';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { longestStall, startOrderLoad } from './order-load.ts';
import { type Replica, replicaLabel, replicaOf } from './replicas.ts';
import type { RehearsalReport } from './report.ts';
import { verifyRehearsal } from './verify.ts';

export interface RehearsalOptions {
  /** A database of its own (the rehearsal creates schemas users, orders, notifications in it). */
  databaseUrl: string;
  /**
   * Length of each phase (steady, NATS node down, replicas killed, node back, replicas terminated,
   * NATS quorum lost, quorum back).
   */
  phaseMs: number;
  workers: number;
  pauseMs: number;
  maxOrders: number;
  convergeTimeoutMs: number;
  log: (line: string) => void;
}

const MAIL_DOMAIN = 'rehearsal.conveyor.local';
const SHUTDOWN_GRACE_MS = 10_000;

async function streamLeader(cluster: NatsCluster, stream: string): Promise<string | undefined> {
  const nc = await connect({ ...natsConnectOptions(cluster.urls, cluster.seeds), timeout: 3000 });
  try {
    return (await (await jetstreamManager(nc, { timeout: 3000 })).streams.info(stream)).cluster?.leader;
  } finally {
    await nc.close();
  }
}

async function streamReplicas(cluster: NatsCluster): Promise<Record<string, number>> {
  const nc = await connect({ ...natsConnectOptions(cluster.urls, cluster.seeds), timeout: 3000 });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 3000 });
    const out: Record<string, number> = {};
    for (const name of ['USERS', 'ORDERS', 'DEADLETTERS'])
      out[name] = (await jsm.streams.info(name)).config.num_replicas;
    return out;
  } finally {
    await nc.close();
  }
}

/**
 * A 3-node NATS cluster with R3 streams, two replicas of every service, steady
 * order load round-robin over the replicas; then, one phase at a time: SIGKILL
 * the ORDERS stream leader node, SIGKILL one replica of each service (restarted
 * shortly after, as a kubelet would), bring the node back, SIGTERM the other
 * replica of each service (restarted too), kill two of the three nodes (the streams' quorum lost)
 * and bring them back. Ends by checking every accepted order
 * in the event store, the read model and the notification log and mails.
 */
export async function runRehearsal(options: RehearsalOptions): Promise<RehearsalReport> {
  const { log, phaseMs } = options;
  const began = Date.now();
  const timeline: RehearsalReport['timeline'] = [];
  const mark = (event: string, at = Date.now()) => {
    timeline.push({ atMs: at - began, event });
    log(`[${((at - began) / 1000).toFixed(1).padStart(6)} s] ${event}`);
  };
  const natsDir = await mkdtemp(join(tmpdir(), 'conveyor-rehearsal-nats-'));
  const replicas: Replica[] = [];
  let cluster: NatsCluster | undefined;
  let system: System | undefined;
  const smtp = await startSmtpSink({ smtpPort: 0, capacity: 1_000_000 });
  try {
    cluster = await startNatsCluster({
      baseDir: natsDir,
      size: 3,
      name: 'rehearsal',
      seeds: generateNatsSeeds(),
    });
    mark(`NATS cluster up: ${cluster.nodes.map((n) => `${n.name} ${n.url}`).join(', ')}`);
    // One NATS URL per replica, as a Kubernetes Service gives one address: a node that is up when
    // the replica starts (replicas spread over the nodes). Once connected, the client learns the
    // other nodes from the cluster and fails over to them. (NATS_URL's validation takes one URL.)
    let started = 0;
    const natsNow = () => {
      const up = cluster!.nodes.filter((n) => n.running);
      return { NATS_URL: up[started++ % up.length]!.url };
    };
    const crashes = new Map<string, number>();
    system = await startSystem({
      name: 'rehearsal',
      services: ['users', 'orders', 'notifications'],
      // users-a alone first: it creates the R3 streams (nats-server 2.9 leaves one of two concurrent
      // creations of the same clustered stream unanswered); the others are added below.
      replicas: { orders: 0, notifications: 0 },
      infra: {
        databaseUrl: options.databaseUrl,
        natsUrl: cluster.nodes[0]!.url,
        natsSeeds: cluster.seeds,
        smtpUrl: `smtp://127.0.0.1:${smtp.smtpPort}?tls=off`,
      },
      startAttempts: 6,
      onStartFailure: (service) => {
        crashes.set(replicaLabel(service), (crashes.get(replicaLabel(service)) ?? 0) + 1);
      },
      env: {
        all: { NATS_STREAM_REPLICAS: '3', SHUTDOWN_GRACE_MS: String(SHUTDOWN_GRACE_MS) },
        // Cheap password hashes: every load worker signs a user up and in.
        users: { USERS_ARGON2_MEMORY_KIB: '8192', USERS_ARGON2_PASSES: '1', ...natsNow() },
        orders: { PROJECTION_ACK_WAIT_MS: '10000' },
        notifications: {
          MAIL_DOMAIN,
          CONSUMER_BACKOFF_MS: '200,500,1000,2000',
          CONSUMER_MAX_DELIVER: '50',
          CONSUMER_ACK_WAIT_MS: '10000',
          DELIVERY_LEASE_MS: '10000',
        },
      },
    });
    const running = system;
    const adopt = (service: ServiceUnderTest) =>
      replicas.push(replicaOf(running, service, natsNow, () => crashes.get(replicaLabel(service)) ?? 0));
    adopt(running.service('users'));
    adopt(await running.addReplica('users', natsNow()));
    const usersAddr = `ipv4:${running
      .replicas('users')
      .map((u) => u.address)
      .join(',')}`;
    const more: ServiceName[] = ['orders', 'orders', 'notifications', 'notifications'];
    for (const service of await Promise.all(
      more.map((name) => running.addReplica(name, { ...natsNow(), USERS_ADDR: usersAddr })),
    ))
      adopt(service);
    mark(`replicas ready: ${replicas.map((r) => `${r.label} :${r.grpcPort}`).join(', ')}`);
    const streams = await streamReplicas(cluster);
    mark(`stream replicas: ${JSON.stringify(streams)}`);

    const addresses = (service: string) => () =>
      replicas.filter((r) => r.service === service).map((r) => `127.0.0.1:${r.grpcPort}`);
    const load = startOrderLoad({
      usersAddresses: addresses('users'),
      ordersAddresses: addresses('orders'),
      workers: options.workers,
      pauseMs: options.pauseMs,
      maxOrders: options.maxOrders,
      attempts: 12,
    });
    const loadStart = Date.now();
    mark(`load started: ${options.workers} clients`);
    const phaseBounds: { name: string; from: number }[] = [{ name: 'steady', from: 0 }];
    const phase = (name: string) => {
      phaseBounds.push({ name, from: Date.now() - loadStart });
      mark(`phase: ${name}`);
    };
    const byService = (suffix: string) => replicas.filter((r) => r.label.endsWith(suffix));

    await sleep(phaseMs);
    const leader = (await streamLeader(cluster, 'ORDERS')) ?? cluster.nodes[0]!.name;
    const victim = cluster.nodes.find((n) => n.name === leader) ?? cluster.nodes[0]!;
    await victim.kill();
    phase(`NATS node ${victim.name} (ORDERS stream leader) SIGKILLed`);

    await sleep(phaseMs);
    const killed = byService('-a');
    await Promise.all(killed.map((r) => r.kill()));
    phase(`SIGKILLed ${killed.map((r) => r.label).join(', ')}`);
    await sleep(phaseMs / 2);
    await Promise.all(killed.map((r) => r.restart()));
    mark(`restarted ${killed.map((r) => r.label).join(', ')}`);

    await sleep(phaseMs / 2);
    await victim.restart();
    phase(`NATS node ${victim.name} restarted`);
    await cluster.waitHealthy(30_000).then(
      () => mark('NATS cluster healthy again'),
      (error: Error) => mark(`NATS cluster not healthy: ${error.message}`),
    );

    await sleep(phaseMs);
    const terminated = byService('-b');
    phase(`SIGTERM to ${terminated.map((r) => r.label).join(', ')}`);
    const exits = await Promise.all(
      terminated.map(async (r) => ({ replica: r.label, ...(await r.terminate(SHUTDOWN_GRACE_MS)) })),
    );
    mark(`exits: ${exits.map((e) => `${e.replica} code ${e.code} in ${e.ms} ms`).join(', ')}`);
    await sleep(phaseMs / 2);
    await Promise.all(terminated.map((r) => r.restart()));
    mark(`restarted ${terminated.map((r) => r.label).join(', ')}`);
    await sleep(phaseMs / 2);

    // Quorum lost (issue 25): two of three nodes down, so no R3 stream can store anything. Orders
    // keep being accepted into Postgres; their events wait in the outbox until the nodes are back.
    const quorum = cluster.nodes.slice(0, 2);
    await Promise.all(quorum.map((n) => n.kill()));
    phase(`NATS quorum lost: ${quorum.map((n) => n.name).join(' and ')} SIGKILLed`);
    await sleep(phaseMs / 2);
    await Promise.all(quorum.map((n) => n.restart()));
    phase(`NATS nodes ${quorum.map((n) => n.name).join(' and ')} restarted`);
    await cluster.waitHealthy(30_000).then(
      () => mark('NATS cluster healthy again'),
      (error: Error) => mark(`NATS cluster not healthy: ${error.message}`),
    );
    await sleep(phaseMs / 2);

    const result = await load.stop();
    const loadEnd = result.durationMs;
    mark(`load stopped: ${result.accepted.length} orders accepted`);
    const verification = await verifyRehearsal({
      databaseUrl: options.databaseUrl,
      accepted: result.accepted,
      mails: () => smtp.messages(),
      mailDomain: MAIL_DOMAIN,
      convergeTimeoutMs: options.convergeTimeoutMs,
    });
    mark(`verified (${verification.converged ? 'converged' : 'did NOT converge'})`);

    const phases = phaseBounds.map((p, i) => {
      const to = phaseBounds[i + 1]?.from ?? loadEnd;
      return {
        name: p.name,
        fromMs: p.from,
        toMs: to,
        accepted: result.accepted.filter((o) => o.at >= p.from && o.at < to).length,
        longestStallMs: longestStall(result.successes, p.from, to).ms,
      };
    });
    const stall = longestStall(result.successes, 0, loadEnd);
    return {
      startedAt: new Date(began).toISOString(),
      settings: {
        phaseMs,
        workers: options.workers,
        natsNodes: 3,
        replicasPerService: 2,
        streamReplicas: streams,
        shutdownGraceMs: SHUTDOWN_GRACE_MS,
      },
      figures: {
        accepted: result.accepted.length,
        lost: verification.lostOrderIds.length,
        duplicated:
          result.duplicateOrdersForKey +
          verification.duplicateConfirmations +
          verification.duplicateEvents +
          verification.unexplainedEvents,
        longestStallMs: stall.ms,
        longestStallAtMs: stall.at,
      },
      load: {
        usersCreated: result.usersCreated,
        paid: result.accepted.filter((o) => o.paid).length,
        retries: result.retries,
        gaveUp: result.gaveUp.length,
        gaveUpByCode: result.gaveUp.reduce<Record<string, number>>((acc, g) => {
          acc[`${g.command} ${g.code}`] = (acc[`${g.command} ${g.code}`] ?? 0) + 1;
          return acc;
        }, {}),
        slowestCommandMs: result.slowestCommandMs,
        durationMs: loadEnd,
      },
      phases,
      sigterm: exits,
      startupCrashes: Object.fromEntries(replicas.map((r) => [r.label, r.crashedAtStart])),
      verification,
      timeline,
    };
  } finally {
    await Promise.all(replicas.map((r) => (r.up ? r.terminate(SHUTDOWN_GRACE_MS) : undefined)));
    await system?.stop();
    await cluster?.stop();
    await smtp.close();
    await rm(natsDir, { recursive: true, force: true });
  }
}
