import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ordersV1 } from '@conveyor/contracts';
import { callUnary, insecure, migrate } from '@conveyor/platform';
import { createDatabase, dropDatabase, startNatsServer, startSmtpSink, waitUntil } from '@conveyor/stack';
import pg from 'pg';
import { migrations as notificationMigrations } from '../../services/notifications/src/adapters/migrations.ts';
import { migrations as orderMigrations } from '../../services/orders/src/adapters/migrations.ts';
import { migrations as userMigrations } from '../../services/users/src/adapters/migrations.ts';
import { type SignedIn, signUp } from '../../test/support/auth.ts';
import { type ServiceUnderTest, startServiceProcess } from '../../test/support/service-processes.ts';
import type { BenchContext, SuiteResult } from '../lib/context.ts';
import { type CpuComponents, cpuBetween, pidsNamed, sampleCpu } from '../lib/cpu.ts';
import { closedLoop, openLoop } from '../lib/latency.ts';
import { peakRssBytes } from '../lib/memory.ts';
import type { Row } from '../lib/report.ts';

/**
 * All services as processes on this machine; a load generator places orders
 * over gRPC (closed loop at each concurrency, then open loop at a fixed rate)
 * and afterwards checks that every accepted order reached the event store,
 * the read model and exactly one confirmation notification.
 */
export async function endToEnd(ctx: BenchContext): Promise<SuiteResult> {
  const name = `bench_e2e_${Date.now()}`;
  const url = await createDatabase(ctx.adminUrl, name);
  const store = mkdtempSync(join(tmpdir(), 'conveyor-bench-e2e-nats-'));
  const nats = await startNatsServer({ port: 0, storeDir: store });
  const smtp = await startSmtpSink({ smtpPort: 0, capacity: 1_000_000 });
  const services: ServiceUnderTest[] = [];
  const sql = new pg.Pool({ connectionString: url, max: 2 });
  try {
    for (const [schema, migrations] of [
      ['users', userMigrations],
      ['orders', orderMigrations],
      ['notifications', notificationMigrations],
    ] as const) {
      await migrate({ url, schema, migrations });
    }
    const common = { DATABASE_URL: url, NATS_URL: nats.url, LOG_LEVEL: 'warn' };
    const users = await startServiceProcess('users', common);
    services.push(users);
    services.push(
      await startServiceProcess('orders', { ...common, USERS_ADDR: `127.0.0.1:${users.grpcPort}` }),
      await startServiceProcess('notifications', {
        ...common,
        // Reveals sealed contact details of user.created v2 and verifies tokens.
        USERS_ADDR: `127.0.0.1:${users.grpcPort}`,
        SMTP_URL: `smtp://127.0.0.1:${smtp.smtpPort}?tls=off`,
      }),
    );
    const orders = new ordersV1.OrderServiceClient(`127.0.0.1:${services[1]!.grpcPort}`, insecure());
    // Customers sign up and sign in first (Argon2id is deliberately slow), 5 at a time;
    // each order is then placed with its customer's access token.
    const customers: SignedIn[] = [];
    for (let i = 0; i < 50; i += 5) {
      customers.push(
        ...(await Promise.all(
          [0, 1, 2, 3, 4].map((j) =>
            signUp(`127.0.0.1:${users.grpcPort}`, {
              email: `bench-${i + j}-${randomUUID().slice(0, 6)}@example.com`,
            }),
          ),
        )),
      );
    }
    const placed: string[] = [];
    const place = async (i: number) => {
      const customer = customers[i % customers.length]!;
      const { order } = await callUnary(
        orders,
        orders.placeOrder,
        { userId: '', items: [{ sku: 'MUG-001', quantity: 1 }], idempotencyKey: randomUUID() },
        { deadlineMs: 10_000, metadata: customer.metadata() },
      );
      placed.push(order!.id);
      return order!.id;
    };

    const rows: Row[] = [];
    const cpuComponents: CpuComponents = {
      postgres: () => pidsNamed('postgres'),
      'nats-server': () => [nats.pid],
      ...Object.fromEntries(
        ['users', 'orders', 'notifications'].map((name, i) => [name, () => [services[i]!.process.pid ?? 0]]),
      ),
      'load generator + SMTP sink': () => [process.pid],
    };
    const widest = Math.max(...ctx.concurrencies);
    let widestPerSecond = 0;
    for (const concurrency of ctx.concurrencies) {
      const cpuBefore = sampleCpu(cpuComponents);
      const result = await closedLoop(concurrency, ctx.phaseMs, (w, i) =>
        place(w * 1_000_000 + i).then(() => {}),
      );
      if (concurrency === widest) {
        const cpu = cpuBetween(cpuBefore, sampleCpu(cpuComponents));
        const wall = result.seconds;
        const perOrderMs = (seconds: number) => ((seconds / Math.max(1, result.ops)) * 1000).toFixed(2);
        for (const { name, seconds } of cpu) {
          ctx.log(
            `end to end · CPU @${concurrency} · ${name}: ${((seconds / wall) * 100).toFixed(0)}% of a core, ${perOrderMs(seconds)} ms per order`,
          );
          rows.push({
            group: 'end to end CPU',
            name,
            concurrency,
            perSecond: 0, // not a rate: the note says how much CPU
            note: `${((seconds / wall) * 100).toFixed(0)}% of a core, ${perOrderMs(seconds)} ms CPU per order (consumers may lag the closed loop)`,
          });
        }
      }
      if (concurrency === widest) widestPerSecond = result.perSecond;
      const l = result.latency.summary();
      ctx.log(
        `end to end · PlaceOrder closed loop @${concurrency}: ${result.perSecond.toFixed(0)}/s, p99 ${l.p99} ms`,
      );
      rows.push({
        group: 'end to end',
        name: 'PlaceOrder, closed loop',
        concurrency,
        perSecond: result.perSecond,
        ...l,
        ...(result.errors ? { note: `${result.errors} errors: ${result.firstError}` } : {}),
      });
    }

    const ms = (v: number | undefined) => (v === undefined ? '—' : `${v.toFixed(1)} ms`);
    /**
     * One open-loop phase at `rate` orders/s. It starts once the consumers have caught up with
     * everything before it, so its lags are its own and not an earlier phase's backlog, and it
     * waits for its own orders before reading their lags from the database (not by polling: that
     * loads the very services it measures).
     */
    const openLoopPhase = async (rate: number, why: string) => {
      const backlog = placed.length;
      const drainMs = await drained(sql, [...placed], 180_000);
      ctx.log(`end to end · consumers caught up with ${backlog} earlier orders in ${drainMs.toFixed(0)} ms`);
      rows.push({
        group: 'end to end',
        name: `consumers catch up before the open loop at ${rate}/s`,
        concurrency: 'all',
        perSecond: 0,
        note: `${drainMs.toFixed(0)} ms for the backlog of ${backlog} orders to be projected and confirmed`,
      });
      const ids: string[] = [];
      const open = await openLoop(rate, ctx.phaseMs, 2000, async (i) => {
        ids.push(await place(i));
      });
      const ol = open.latency.summary();
      // Refused as overloaded (UNAVAILABLE, ADR 0017) is the services shedding what they cannot serve.
      const refused = open.errorCodes['14'] ?? 0;
      const errorNote = `${open.errors} errors (${refused} refused as overloaded${
        open.errors > refused ? `; by code ${JSON.stringify(open.errorCodes)}` : ''
      })`;
      ctx.log(
        `end to end · PlaceOrder open loop @${rate}/s (${why}): p50 ${ol.p50} ms, p99 ${ol.p99} ms (admitted), ${errorNote}, ${open.dropped} not sent`,
      );
      rows.push({
        group: 'end to end',
        name: `PlaceOrder, open loop at ${rate}/s (${why})`,
        concurrency: 'open',
        perSecond: open.ops / open.seconds,
        ...ol,
        note: `${errorNote}, ${open.dropped} not sent (load generator's in-flight cap)`,
      });
      await drained(sql, ids, 120_000);
      const readLag = await readModelLag(sql, ids);
      const mailLag = await notificationLag(sql, ids);
      ctx.log(
        `end to end · lag at ${rate}/s: read model p50 ${ms(readLag.p50)}, p99 ${ms(readLag.p99)} (${readLag.n}); notification p50 ${ms(mailLag.p50)}, p99 ${ms(mailLag.p99)} (${mailLag.n})`,
      );
      rows.push(
        {
          group: 'end to end',
          name: `place → read model (open loop at ${rate}/s)`,
          concurrency: 'open',
          perSecond: 0,
          p50: readLag.p50,
          p99: readLag.p99,
          p999: readLag.p999,
          note: `${readLag.n} orders (event recorded → row projected, from the database)`,
        },
        {
          group: 'end to end',
          name: `place → confirmation mail sent (open loop at ${rate}/s)`,
          concurrency: 'open',
          perSecond: 0,
          p50: mailLag.p50,
          p99: mailLag.p99,
          p999: mailLag.p999,
          note: `${mailLag.n} notifications (event recorded → mail accepted by SMTP, from the database)`,
        },
      );
      return { latency: ol, readLag, lag: mailLag };
    };

    // The issue's fixed rate, then half of what the widest closed loop sustained: latency where
    // the machine is not saturated.
    const rate = ctx.smoke ? 100 : 1000;
    const target = await openLoopPhase(rate, 'target rate');
    const sustainable = Math.max(10, Math.round((widestPerSecond * 0.5) / 10) * 10);
    await openLoopPhase(sustainable, 'half the closed-loop peak');
    const { readLag, lag } = target;
    const checks = await convergence(sql, placed, ctx);
    // Peak resident memory of each service over the whole suite (closed loops and the open loop).
    const memory = ['users', 'orders', 'notifications'].map((service, i) => {
      const bytes = peakRssBytes(services[i]!.process.pid ?? 0);
      const mb = bytes === undefined ? undefined : bytes / 1024 / 1024;
      ctx.log(`end to end · peak RSS · ${service}: ${mb === undefined ? 'unknown' : `${mb.toFixed(0)} MB`}`);
      rows.push({
        group: 'end to end memory',
        name: service,
        concurrency: 'all',
        perSecond: 0, // not a rate: the note gives the memory
        note: `peak RSS ${mb === undefined ? 'unknown' : `${mb.toFixed(0)} MB`} (VmHWM)`,
      });
      return { service, mb };
    });
    orders.close();
    const under = (name: string, value: number | undefined, limit: number, unit: string) => ({
      name,
      ok: (value ?? Infinity) <= limit,
      detail: value === undefined ? 'not measured' : `${value.toFixed(unit === 'MB' ? 0 : 1)} ${unit}`,
      target: true,
    });
    return {
      rows,
      ratios: [],
      checks: [
        ...checks,
        ...(!ctx.smoke
          ? [
              under(`PlaceOrder p99 at ${rate}/s ≤ 25 ms`, target.latency.p99, 25, 'ms'),
              under(`place → read model p99 at ${rate}/s ≤ 100 ms`, readLag.p99, 100, 'ms'),
              under(`place → notification p99 at ${rate}/s ≤ 200 ms`, lag.p99, 200, 'ms'),
            ]
          : []),
        ...(ctx.smoke ? [] : memory.map((m) => under(`${m.service} peak RSS ≤ 200 MB`, m.mb, 200, 'MB'))),
      ],
    };
  } finally {
    await Promise.all(services.map((s) => s.process.stop(10_000)));
    await sql.end();
    await smtp.close();
    await nats.stop();
    rmSync(store, { recursive: true, force: true });
    await dropDatabase(ctx.adminUrl, name);
  }
}

const count = async (sql: pg.Pool, query: string, ids: readonly string[]) =>
  (await sql.query(query, [ids])).rows[0].n as number;
/** How many of `placed` are projected and confirmed (mail sent). */
async function consumedCounts(sql: pg.Pool, placed: readonly string[]) {
  return {
    projected: await count(
      sql,
      'select count(*)::int as n from orders.order_summaries where order_id = any($1::uuid[])',
      placed,
    ),
    notified: await count(
      sql,
      `select count(*)::int as n from notifications.notifications n join orders.events e on e.event_id = n.event_id
        where n.event_type = 'order.created' and n.status = 'sent' and e.stream_id = any(select 'order-' || unnest($1::text[]))`,
      placed,
    ),
  };
}

/** Waits (bounded) until every order of `placed` is projected and confirmed; the time it took, in ms. */
async function drained(sql: pg.Pool, placed: readonly string[], timeoutMs: number): Promise<number> {
  const started = performance.now();
  await waitUntil(
    async () => {
      const c = await consumedCounts(sql, placed);
      return c.projected === placed.length && c.notified === placed.length;
    },
    { timeoutMs, intervalMs: 250, message: `the consumers did not catch up within ${timeoutMs} ms` },
  ).catch(() => {});
  return performance.now() - started;
}

/** Every accepted order in the store and the read model; exactly one confirmation each. */
async function convergence(
  sql: pg.Pool,
  placed: string[],
  ctx: BenchContext,
): Promise<SuiteResult['checks']> {
  const convergedMs = await drained(sql, placed, 120_000);
  const duplicates = (
    await sql.query(
      `select count(*)::int as n from (select event_id from notifications.notifications group by event_id, channel having count(*) > 1) d`,
    )
  ).rows[0].n as number;
  const s = await count(
    sql,
    `select count(distinct stream_id)::int as n from orders.events where stream_id = any(select 'order-' || unnest($1::text[]))`,
    placed,
  );
  const { projected: p, notified: n } = await consumedCounts(sql, placed);
  ctx.log(
    `end to end · ${placed.length} accepted: ${s} stored, ${p} projected, ${n} notified; converged ${convergedMs.toFixed(0)} ms after load`,
  );
  return [
    {
      name: 'no accepted order lost (event store)',
      ok: s === placed.length,
      detail: `${s} of ${placed.length}`,
    },
    { name: 'every order in the read model', ok: p === placed.length, detail: `${p} of ${placed.length}` },
    {
      name: 'one confirmation per order',
      ok: n === placed.length && duplicates === 0,
      detail: `${n} sent, ${duplicates} duplicated`,
    },
  ];
}

/**
 * p50 / p99 / p99.9 (ms) over the `ms` column of `lagsSql` (a select taking the order ids as $1);
 * no percentiles when it has no rows.
 */
async function lagPercentiles(sql: pg.Pool, lagsSql: string, orderIds: readonly string[]) {
  const { rows } = await sql.query<{
    n: number;
    p50: number | null;
    p99: number | null;
    p999: number | null;
  }>(
    `select count(*)::int as n,
            percentile_cont(0.5) within group (order by ms) as p50,
            percentile_cont(0.99) within group (order by ms) as p99,
            percentile_cont(0.999) within group (order by ms) as p999
     from (${lagsSql}) lags`,
    [orderIds],
  );
  const r = rows[0]!;
  return { n: r.n, p50: r.p50 ?? undefined, p99: r.p99 ?? undefined, p999: r.p999 ?? undefined };
}

/** order.created recorded (its transaction's time) → the projection wrote the order's row. */
const readModelLag = (sql: pg.Pool, orderIds: readonly string[]) =>
  lagPercentiles(
    sql,
    `select extract(epoch from (s.projected_at - e.recorded_at)) * 1000 as ms
       from orders.order_summaries s
       join orders.events e on e.stream_id = 'order-' || s.order_id::text and e.version = 1
      where s.order_id = any($1::uuid[]) and s.version = 1`,
    orderIds,
  );

/** order.created recorded → its confirmation mail accepted by SMTP. */
const notificationLag = (sql: pg.Pool, orderIds: readonly string[]) =>
  lagPercentiles(
    sql,
    `select extract(epoch from (n.sent_at - e.recorded_at)) * 1000 as ms
       from notifications.notifications n join orders.events e on e.event_id = n.event_id
      where n.status = 'sent' and n.event_type = 'order.created'
        and e.stream_id = any(select 'order-' || unnest($1::text[]))`,
    orderIds,
  );
