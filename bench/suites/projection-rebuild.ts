import { isDeepStrictEqual } from 'node:util';
import { createPool, migrate, type Pool, PostgresEventStore } from '@conveyor/platform';
import { createDatabase, dropDatabase } from '@conveyor/stack';
import { v7 as uuidv7 } from 'uuid';
import { migrations } from '../../services/orders/src/adapters/migrations.ts';
import { PostgresProjectionRebuild } from '../../services/orders/src/adapters/postgres-projection-rebuild.ts';
import { PostgresOrderReadModels } from '../../services/orders/src/adapters/postgres-read-models.ts';
import { encodeOrderEvent, orderStreamId } from '../../services/orders/src/app/order-event-mapping.ts';
import { foldStored } from '../../services/orders/src/app/order-projection.ts';
import {
  type RebuildProgress,
  rebuildProjections,
} from '../../services/orders/src/app/rebuild-projections.ts';
import { decide, evolve, initialState, type OrderEvent } from '../../services/orders/src/domain/order.ts';
import { lifecycle } from '../../services/orders/src/testing/order-streams.ts';
import type { BenchContext, SuiteResult } from '../lib/context.ts';
import type { Row } from '../lib/report.ts';

const schema = 'orders';
const TARGET_EVENTS_PER_SECOND = 50_000;

interface GeneratedOrder {
  orderId: string;
  events: OrderEvent[];
  status: string;
}

/**
 * One order's lifecycle (the orders tests' `lifecycle`), decided by the real aggregate: placed,
 * then (by `variant`) paid, shipped, delivered or cancelled; 2.5 events on average.
 */
function generateOrder(variant: number, userId: string, base: number): GeneratedOrder {
  const orderId = uuidv7();
  let tick = 0;
  const at = () => new Date(base + ++tick * 1000);
  let state = initialState();
  const events: OrderEvent[] = [];
  for (const command of lifecycle(orderId, userId, variant, at)) {
    for (const event of decide(command, state)) {
      events.push(event);
      state = evolve(state, event);
    }
  }
  return { orderId, events, status: state.status };
}

/**
 * Bulk insert of the rows PostgresEventStore's append writes into `events`
 * (stream, version, event id, type, JSON data, metadata `{}`), in rounds by
 * version so streams interleave in the log as they do in production.
 */
async function bulkInsert(pool: Pool, orders: readonly GeneratedOrder[]): Promise<void> {
  const maxVersion = Math.max(...orders.map((o) => o.events.length));
  const chunk = 10_000;
  for (let version = 1; version <= maxVersion; version++) {
    const round = orders.filter((o) => o.events.length >= version);
    for (let i = 0; i < round.length; i += chunk) {
      const slice = round.slice(i, i + chunk);
      const encoded = slice.map((o) => encodeOrderEvent(o.events[version - 1]!));
      await pool.query(
        `insert into events (stream_id, version, event_id, type, data, metadata)
         select s, $2, e, t, d, '{}'::jsonb from unnest($1::text[], $3::uuid[], $4::text[], $5::jsonb[]) as u(s, e, t, d)`,
        [
          slice.map((o) => orderStreamId(o.orderId)),
          version,
          slice.map(() => uuidv7()),
          encoded.map((e) => e.type),
          encoded.map((e) => JSON.stringify(e.data)),
        ],
      );
    }
  }
}

/**
 * The orders service's RebuildProjections use case, run in-process as the
 * RPC runs it (rebuildProjections + PostgresProjectionRebuild on a real pool)
 * over a large store: events/s over the whole rebuild (shadow copy, catch-up,
 * reconciliation, swap), then a check that the rebuilt read model holds one
 * row per order in the state its lifecycle ended in.
 */
export async function projectionRebuild(ctx: BenchContext): Promise<SuiteResult> {
  const orderCount = ctx.smoke ? 1200 : 84_000;
  // Written through the event store's own append (a command per append, as
  // the command handler does); the rest by the equivalent bulk insert.
  const viaStore = ctx.smoke ? orderCount : 2000;
  const name = `bench_rebuild_${Date.now()}`;
  const url = await createDatabase(ctx.adminUrl, name);
  const rows: Row[] = [];
  const checks: SuiteResult['checks'] = [];
  const pool = createPool({ url, schema, applicationName: 'bench-rebuild', max: 4 });
  try {
    await migrate({ url, schema, migrations });
    const users = Array.from({ length: Math.max(10, Math.floor(orderCount / 8)) }, () => uuidv7());
    const base = Date.parse('2025-01-01T00:00:00.000Z');
    const orders = Array.from({ length: orderCount }, (_, i) =>
      generateOrder(i, users[i % users.length]!, base + i * 10_000),
    );
    const eventCount = orders.reduce((n, o) => n + o.events.length, 0);

    const store = new PostgresEventStore(pool);
    let t0 = performance.now();
    for (const order of orders.slice(0, viaStore)) {
      let version = 0;
      for (const event of order.events) {
        const result = await store.appendToStream(
          orderStreamId(order.orderId),
          [{ eventId: uuidv7(), ...encodeOrderEvent(event), metadata: {} }],
          { expectedVersion: version },
        );
        if (result.kind !== 'appended') throw new Error(`append of ${order.orderId} was ${result.kind}`);
        version++;
      }
    }
    await bulkInsert(pool, orders.slice(viaStore));
    await pool.query('analyze events');
    ctx.log(
      `projection rebuild · store of ${eventCount} events in ${orderCount} streams written in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    const rebuild = rebuildProjections({ store, target: new PostgresProjectionRebuild(pool) });
    const phases: { phase: RebuildProgress['phase']; at: number }[] = [];
    t0 = performance.now();
    await rebuild((p) => {
      if (phases.at(-1)?.phase !== p.phase) phases.push({ phase: p.phase, at: performance.now() });
    });
    const seconds = (performance.now() - t0) / 1000;
    const perSecond = eventCount / seconds;
    // Seconds until each phase began: copying ends when catching-up (or swapping) starts.
    const split = phases.map((p) => `${p.phase} at ${((p.at - t0) / 1000).toFixed(2)} s`).join(', ');
    ctx.log(
      `projection rebuild · ${eventCount} events in ${seconds.toFixed(2)} s: ${perSecond.toFixed(0)} events/s`,
    );
    rows.push({
      group: 'projection rebuild',
      name: 'RebuildProjections use case (events/s)',
      concurrency: 1,
      perSecond,
      note: `${eventCount} events, ${orderCount} orders, ${seconds.toFixed(2)} s (${split})`,
    });

    const { rows: counts } = await pool.query<{ status: string; n: number; versions: number }>(
      'select status, count(*)::int as n, sum(version)::int as versions from order_summaries group by status',
    );
    const expected = new Map<string, number>();
    for (const o of orders) expected.set(o.status, (expected.get(o.status) ?? 0) + 1);
    const actual = new Map(counts.map((c) => [c.status, c.n]));
    const rowTotal = counts.reduce((n, c) => n + c.n, 0);
    const versionTotal = counts.reduce((n, c) => n + c.versions, 0);
    const statusesMatch =
      expected.size === actual.size && [...expected].every(([status, n]) => actual.get(status) === n);
    checks.push({
      name: 'projection rebuild: one row per order, each in its final state',
      ok: rowTotal === orderCount && versionTotal === eventCount && statusesMatch,
      detail: `${rowTotal}/${orderCount} rows, versions sum ${versionTotal}/${eventCount}, by status ${JSON.stringify(Object.fromEntries(actual))} (expected ${JSON.stringify(Object.fromEntries(expected))})`,
    });

    // A sample of rows compared field by field with the fold of their stream.
    const sample = orders.filter((_, i) => i % Math.ceil(orderCount / 200) === 0).map((o) => o.orderId);
    const views = await new PostgresOrderReadModels(pool).getOrders(sample);
    let mismatched = 0;
    for (const orderId of sample) {
      const folded = foldStored(await store.readStream(orderStreamId(orderId)));
      if (!isDeepStrictEqual(views.get(orderId), folded?.view)) mismatched++;
    }
    checks.push({
      name: 'projection rebuild: sampled rows equal the fold of their stream',
      ok: mismatched === 0 && phases.at(-1)?.phase === 'done',
      detail: `${sample.length - mismatched}/${sample.length} match; phases ${phases.map((p) => p.phase).join(' → ')}`,
    });
    if (!ctx.smoke) {
      checks.push({
        name: `projection rebuild ≥ ${TARGET_EVENTS_PER_SECOND.toLocaleString('en')} events/s`,
        ok: perSecond >= TARGET_EVENTS_PER_SECOND,
        detail: `${perSecond.toFixed(0)} events/s`,
        target: true,
      });
    }
  } finally {
    await pool.end();
    await dropDatabase(ctx.adminUrl, name);
  }
  return { rows, ratios: [], checks };
}
