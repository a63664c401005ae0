import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntil } from '@conveyor/stack';
import pg from 'pg';
import type { ChaosSystem } from './chaos-system.ts';
import { poisonMessages } from './poison-messages.ts';

/** One fault, injected while the order load runs; `run` returns when the system is healed. */
export interface Experiment {
  name: string;
  fault: string;
  run(system: ChaosSystem, note: (line: string) => void): Promise<ExperimentChecks | undefined>;
}

/** Extra findings of an experiment beyond the common invariants. */
export interface ExperimentChecks {
  problems: string[];
  details: string[];
}

const FAULT_MS = 3000;

const killAndRestart = (service: 'users' | 'orders' | 'notifications'): Experiment => ({
  name: `kill-${service}`,
  fault: `SIGKILL ${service} under load, restarted after 1 s`,
  async run(system) {
    await system.services[service].kill();
    await sleep(1000);
    await system.services[service].start();
    return undefined;
  },
});

const proxyFault = (
  name: string,
  fault: string,
  target: 'nats' | 'pg',
  service: 'users' | 'orders' | 'notifications',
  apply: (proxy: ChaosSystem['services']['orders']['natsProxy']) => Promise<void>,
): Experiment => ({
  name,
  fault,
  async run(system) {
    const proxy = target === 'nats' ? system.services[service].natsProxy : system.services[service].pgProxy;
    try {
      await apply(proxy);
    } finally {
      proxy.set({ kind: 'pass' });
    }
    return undefined;
  },
});

export const experiments: readonly Experiment[] = [
  killAndRestart('users'),
  killAndRestart('orders'),
  killAndRestart('notifications'),
  {
    name: 'restart-nats',
    fault: 'SIGKILL nats-server, started again on the same port and store after 1 s',
    async run(system) {
      await system.nats.kill();
      await sleep(1000);
      await system.nats.restart();
      system.natsPids.push(system.nats.pid);
      return undefined;
    },
  },
  {
    name: 'restart-postgres',
    fault: 'Postgres fast shutdown (clients disconnected) and start on the same data',
    async run(system) {
      await system.restartPostgres();
      return undefined;
    },
  },
  proxyFault(
    'nats-latency-orders',
    'orders <-> NATS: +200 ms each way for 3 s',
    'nats',
    'orders',
    async (p) => {
      p.set({ kind: 'latency', ms: 200 });
      await sleep(FAULT_MS);
    },
  ),
  proxyFault(
    'nats-cut-notifications',
    'notifications <-> NATS: connections cut 3 times, 1 s apart',
    'nats',
    'notifications',
    async (p) => {
      for (let i = 0; i < 3; i++) {
        p.cut();
        await sleep(1000);
      }
    },
  ),
  proxyFault(
    'nats-stall-notifications',
    'notifications <-> NATS: blackhole (all packets lost) for 3 s',
    'nats',
    'notifications',
    async (p) => {
      p.set({ kind: 'stall' });
      await sleep(FAULT_MS);
    },
  ),
  proxyFault(
    'pg-stall-orders',
    'orders <-> Postgres: blackhole for 3 s, then connections cut',
    'pg',
    'orders',
    async (p) => {
      p.set({ kind: 'stall' });
      await sleep(FAULT_MS);
    },
  ),
  proxyFault(
    'pg-latency-notifications',
    'notifications <-> Postgres: +100 ms each way for 3 s',
    'pg',
    'notifications',
    async (p) => {
      p.set({ kind: 'latency', ms: 100 });
      await sleep(FAULT_MS);
    },
  ),
  proxyFault(
    'pg-cut-users',
    'users <-> Postgres: connections cut 3 times, 1 s apart',
    'pg',
    'users',
    async (p) => {
      for (let i = 0; i < 3; i++) {
        p.cut();
        await sleep(1000);
      }
    },
  ),
  {
    name: 'poison-message',
    fault: 'order.created with unknown version 99, and one with invalid data, published by hand',
    run: poisonMessages,
  },
  {
    name: 'relay-kill-after-publish',
    fault: 'orders <-> NATS: PubAcks withheld (publishes stored, rows not deleted), then SIGKILL orders',
    async run(system, note) {
      const orders = system.services.orders;
      orders.natsProxy.set({ kind: 'stall-down' });
      await sleep(1500);
      await orders.kill();
      orders.natsProxy.set({ kind: 'pass' });
      const pending = await outboxRows(system);
      note(`outbox rows left by the killed relay: ${pending}`);
      await orders.start();
      return {
        problems: [],
        details: [`outbox rows at the kill (published without PubAck, or not yet published): ${pending}`],
      };
    },
  },
  {
    name: 'consumer-kill-before-ack',
    fault: 'notifications SIGKILLs itself after its 5th handled event, effect done, before the ack',
    async run(system) {
      const notifications = system.services.notifications;
      await notifications.stop();
      notifications.expectExit();
      await notifications.start({ CONVEYOR_TEST_CRASH_BEFORE_ACK: 'notifications:5' });
      const code = await Promise.race([notifications.exited, sleep(15_000).then(() => 'running' as const)]);
      const problems = code === 'running' ? ['the notifications process did not crash at the hook'] : [];
      if (code === 'running') {
        await notifications.kill();
        await notifications.start();
      } else {
        // The run's supervisor restarts it without the hook; this waits for that (or does it).
        await notifications.supervise();
        await waitUntil(() => notifications.running, {
          timeoutMs: 60_000,
          intervalMs: 100,
          message: 'notifications did not come back after the crash',
        });
      }
      return { problems, details: [`notifications exit: ${code === null ? 'SIGKILL' : String(code)}`] };
    },
  },
];

async function outboxRows(system: ChaosSystem): Promise<number> {
  const client = new pg.Client({ connectionString: system.databaseUrl });
  await client.connect();
  try {
    return (await client.query<{ n: number }>('select count(*)::int as n from orders.outbox')).rows[0]!.n;
  } finally {
    await client.end();
  }
}
