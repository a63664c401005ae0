import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultProxy } from '@conveyor/stack';
import { waitUntil } from '@conveyor/stack';
import { isAlive } from '@conveyor/stack/stack-file';
import type { ChaosSystem } from '../chaos-system.ts';
import type { Experiment } from '../experiments.ts';
import { metric, withDatabase } from './chaos-clients.ts';

interface Replica {
  label: string;
  opsUrl: string;
  pgProxy: FaultProxy;
}

const RELAY_ACTIVE = 'conveyor_outbox_relay_active';
const PUBLISHED = 'conveyor_outbox_published_total';

/**
 * Two orders replicas that both believe they lead the outbox relay (its session advisory lock,
 * outbox-relay.ts): the leader's Postgres connections are blackholed (it hears nothing, not even
 * its backend going away) and its lock backend is terminated, so the other replica takes the lock
 * while the first still reports itself active; healed after 3 s. Done twice, so each replica is
 * once the stale leader (once the one the load talks to). JetStream's Nats-Msg-Id and the
 * consumers' inboxes must absorb whatever both publish.
 */
export const twoRelayLeaders: Experiment = {
  name: 'two-relay-leaders',
  fault:
    "a second orders replica; the relay leader's Postgres connections blackholed and its lock backend terminated, so the other takes the lock while it still believes it leads, 3 s; each replica once; the extra one stopped",
  async run(system, note) {
    const problems: string[] = [];
    const details: string[] = [];
    const extra = await system.addReplica('orders');
    const orders = system.services.orders;
    const replicas: Replica[] = [
      { label: 'orders', opsUrl: orders.opsUrl, pgProxy: orders.pgProxy },
      { label: 'orders-1', opsUrl: extra.opsUrl, pgProxy: extra.pgProxy },
    ];
    try {
      for (let round = 1; round <= 2; round++) {
        const line = await staleLeader(system, replicas);
        details.push(`round ${round}: ${line}`);
        note(details.at(-1)!);
      }
    } catch (error) {
      problems.push((error as Error).message);
    } finally {
      for (const r of replicas) r.pgProxy.set({ kind: 'pass' });
      await extra.stop();
      if (extra.pid !== undefined && isAlive(extra.pid))
        problems.push(`the extra replica ${extra.pid} is still running`);
    }
    return { problems, details };
  },
};

/** One round: the current leader made stale; what each replica reported meanwhile. */
async function staleLeader(system: ChaosSystem, replicas: Replica[]): Promise<string> {
  const holder = await lockHolder(system, replicas, (h) => h !== undefined);
  const leader = holder!.replica;
  const other = replicas.find((r) => r !== leader)!;
  const publishedBefore = await metric(other.opsUrl, PUBLISHED);
  leader.pgProxy.set({ kind: 'stall' });
  await withDatabase(system, (sql) => sql.query('select pg_terminate_backend($1)', [holder!.pid]));
  await lockHolder(system, replicas, (h) => h?.replica === other);
  const otherActive = await metric(other.opsUrl, RELAY_ACTIVE);
  // Its /metrics may not answer: some of its gauges read Postgres, which it cannot reach.
  const leaderActive = await metric(leader.opsUrl, RELAY_ACTIVE).catch(() => 'no answer');
  await sleep(3000);
  const published = (await metric(other.opsUrl, PUBLISHED)) - publishedBefore;
  leader.pgProxy.set({ kind: 'pass' });
  await waitUntil(async () => (await metric(leader.opsUrl, RELAY_ACTIVE)) === 0, {
    timeoutMs: 15_000,
    intervalMs: 100,
    message: `${leader.label} still reported itself the relay leader 15 s after its connections came back`,
  });
  return (
    `${leader.label} lost the lock to ${other.label} (relay active: ${other.label} ${otherActive}, ${leader.label} ${leaderActive}); ` +
    `${other.label} published ${published} events while ${leader.label} was stale`
  );
}

/**
 * The backend holding orders' relay lock and whose replica it is (by the client port its proxy
 * connected from), once `until` holds for it (bounded).
 */
async function lockHolder(
  system: ChaosSystem,
  replicas: Replica[],
  until: (holder: { pid: number; replica: Replica } | undefined) => boolean,
): Promise<{ pid: number; replica: Replica } | undefined> {
  let holder: { pid: number; replica: Replica } | undefined;
  await withDatabase(system, (sql) =>
    waitUntil(
      async () => {
        const { rows } = await sql.query<{ pid: number; client_port: number }>(
          `select a.pid, a.client_port from pg_locks l join pg_stat_activity a on a.pid = l.pid
            where l.locktype = 'advisory' and l.granted and a.application_name = 'orders-relay'`,
        );
        holder = undefined;
        for (const row of rows) {
          const replica = replicas.find((r) => r.pgProxy.upstreamPorts().includes(row.client_port));
          if (replica) holder = { pid: row.pid, replica };
        }
        return until(holder);
      },
      { timeoutMs: 15_000, intervalMs: 100, message: "orders' relay lock did not move as expected" },
    ),
  );
  return holder;
}
