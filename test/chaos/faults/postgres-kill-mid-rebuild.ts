import { waitUntil } from '@conveyor/stack';
import type { SignedIn } from '@conveyor/stack/testing';
import type * as grpc from '@grpc/grpc-js';
import type pg from 'pg';
import type { ChaosService, ChaosSystem } from '../chaos-system.ts';
import type { Experiment } from '../experiments.ts';
import { apiClient, countOf, signInChaosAdmin, withDatabase } from './chaos-clients.ts';

interface Progress {
  phase: string;
}

/**
 * A crash in the middle of a projection rebuild: orders rebuilds its read model beside the live
 * one (RebuildProjections, an admin's), and Postgres is SIGKILLed (no shutdown checkpoint) as soon
 * as the rebuild reports progress, then started again on the same data. The rebuild run again
 * afterwards must finish, and the read model must then be the fold of the event store.
 */
export const postgresKillMidRebuild: Experiment = {
  name: 'postgres-kill-mid-rebuild',
  mayResend: true,
  fault:
    "an admin's RebuildProjections of orders (orders <-> Postgres +20 ms while it copies); Postgres SIGKILLed at its first progress report, started again on the same data; the rebuild run again to the end",
  async run(system, note) {
    const admin = await signInChaosAdmin(system);
    const orders = system.services.orders;
    const problems: string[] = [];
    const details: string[] = [];
    // Slower round trips keep the rebuild going long enough for the kill to land inside it.
    orders.pgProxy.set({ kind: 'latency', ms: 20 });
    let killed: Promise<void> | undefined;
    const first = await rebuild(system, admin, () => {
      if (killed) return;
      orders.pgProxy.set({ kind: 'pass' });
      killed = system.killPostgres(); // the SIGKILL goes out before this returns
      killed.catch(() => {}); // a failed start is reported where it is awaited, below
    });
    orders.pgProxy.set({ kind: 'pass' });
    if (!killed) {
      problems.push(`the rebuild reported no progress to kill Postgres at (${first.outcome})`);
      return { problems, details };
    }
    await killed;
    details.push(`first rebuild: ${first.phases.join(' > ')}, then ${first.outcome}`);
    note(details.at(-1)!);
    const shadowLeft = await withDatabase(system, (sql) =>
      countOf(
        sql,
        `select count(*) as n from pg_tables where schemaname = 'orders' and tablename like '%_rebuild'`,
      ),
    );
    details.push(`shadow table left by the crash: ${shadowLeft ? 'yes' : 'no'}`);
    await waitUntilReady(orders);
    const second = await rebuild(system, admin, () => {});
    details.push(`second rebuild: ${second.phases.join(' > ')}, then ${second.outcome}`);
    if (second.outcome !== 'done') problems.push(`the rebuild after the crash failed: ${second.outcome}`);
    const differences = await readModelAgainstEvents(system);
    if (differences.length) {
      problems.push(`read model is not the fold of the events: ${differences.slice(0, 3).join('; ')}`);
    }
    return { problems, details };
  },
};

/** Runs RebuildProjections to its end: the phases it reported, and 'done' or what ended it. */
async function rebuild(
  system: ChaosSystem,
  admin: SignedIn,
  onProgress: (progress: Progress) => void,
): Promise<{ phases: string[]; outcome: string }> {
  const client = apiClient(system, 'orders');
  const phases: string[] = [];
  try {
    const outcome = await new Promise<string>((resolve) => {
      const call = (
        client as unknown as Record<string, (...a: unknown[]) => grpc.ClientReadableStream<Progress>>
      ).RebuildProjections!.call(client, {}, admin.metadata(), { deadline: Date.now() + 120_000 });
      call.on('data', (progress: Progress) => {
        if (phases.at(-1) !== progress.phase) phases.push(progress.phase);
        onProgress(progress);
      });
      call.on('error', (error: grpc.ServiceError) => resolve(`failed: ${error.message}`));
      call.on('end', () => resolve(phases.at(-1) === 'done' ? 'done' : 'ended without done'));
    });
    return { phases, outcome };
  } finally {
    client.close();
  }
}

/** orders answers /readyz again (the supervisor restarts it if Postgres's crash took it down). */
function waitUntilReady(service: ChaosService): Promise<void> {
  return waitUntil(
    async () =>
      service.running && (await fetch(`${service.opsUrl}/readyz`, { signal: AbortSignal.timeout(2000) })).ok,
    {
      timeoutMs: 60_000,
      intervalMs: 250,
      message: `${service.name} was not ready again after Postgres restarted`,
    },
  );
}

const statusAfter = `case l.type when 'OrderPlaced' then 'placed' when 'OrderPaid' then 'paid'
  when 'OrderShipped' then 'shipped' when 'OrderDelivered' then 'delivered' when 'OrderCancelled' then 'cancelled' end`;

/**
 * Orders whose read-model row is not the fold of their events (missing, another version or
 * status), among those with no event after the head taken now (newer ones may still be on their
 * way to the live projection), once the projection had time to catch up; and rows with no events.
 */
async function readModelAgainstEvents(system: ChaosSystem): Promise<string[]> {
  return withDatabase(system, async (sql) => {
    const head = await countOf(sql, 'select coalesce(max(position), 0) as n from orders.events');
    let differences: string[] = [];
    await waitUntil(
      async () => {
        differences = await compare(sql, head);
        return differences.length === 0;
      },
      { timeoutMs: 30_000, intervalMs: 500, message: 'read model' },
    ).catch(() => {});
    return differences;
  });
}

async function compare(sql: pg.Client, head: number): Promise<string[]> {
  const { rows } = await sql.query<{ stream_id: string; version: number; status: string; row: string }>(
    `with last as (
       select distinct on (stream_id) stream_id, version, type, position from orders.events
        where stream_id like 'order-%' order by stream_id, version desc)
     select l.stream_id, l.version, ${statusAfter} as status,
            coalesce(s.status || ' v' || s.version, 'no row') as row
       from last l left join orders.order_summaries s on s.order_id = substr(l.stream_id, 7)::uuid
      where l.position <= $1 and (s.order_id is null or s.version <> l.version or s.status <> ${statusAfter})
      limit 20`,
    [head],
  );
  const orphans = await countOf(
    sql,
    `select count(*) as n from orders.order_summaries s
      where not exists (select 1 from orders.events e where e.stream_id = 'order-' || s.order_id::text)`,
  );
  return [
    ...rows.map((r) => `${r.stream_id}: events say ${r.status} v${r.version}, row ${r.row}`),
    ...(orphans ? [`${orphans} row(s) without events`] : []),
  ];
}
