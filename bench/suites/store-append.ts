import {
  createPool,
  eventStoreTablesSql,
  messagingTablesSql,
  migrate,
  newEvent,
  PostgresEventStore,
} from '@conveyor/platform';
import { createDatabase, dropDatabase } from '@conveyor/stack';
import { getPostgreSQLEventStore } from '@event-driven-io/emmett-postgresql';
import { v7 as uuidv7 } from 'uuid';
import type { BenchContext, SuiteResult } from '../lib/context.ts';
import { closedLoop } from '../lib/latency.ts';
import type { Row } from '../lib/report.ts';

const schema = 'bench';

/** One order-created-like event and its outbox row, as the orders service writes them. */
function sample() {
  const orderId = uuidv7();
  const data = {
    orderId,
    userId: uuidv7(),
    items: [{ sku: 'MUG-001', quantity: 2, unitPrice: { amountMinor: 1250, currency: 'EUR' } }],
    total: { amountMinor: 2500, currency: 'EUR' },
    at: new Date().toISOString(),
  };
  const integration = newEvent(
    'order.created',
    { ...data, placedAt: data.at },
    { source: 'bench', subject: orderId, streamversion: 1 },
  );
  return { orderId, data, integration, key: uuidv7() };
}

/** The raw baselines' single statement: the same three rows as Conveyor's append, one round trip. */
const rawAppendSql = `
  with claim as (
    insert into raw_claims (scope, key, stream_id) values ($1, $2, $3) on conflict do nothing returning 1
  ), event as (
    insert into raw_events (stream_id, version, event_id, type, data)
    select $3, 1, $4, 'OrderPlaced', $5 where exists (select 1 from claim) returning position
  ), outboxed as (
    insert into raw_outbox (event_id, subject, headers, payload)
    select $4, $6, $7, $8 where exists (select 1 from event)
  )
  select position from event`;

/**
 * Event store append at each concurrency, against baselines measured in the same run on the same
 * server. Every append writes what PlaceOrder writes: the event, its outbox row and the idempotency
 * claim. Baselines: the raw node-pg transaction a hand-rolled outbox would use (BEGIN; INSERT
 * claim; INSERT event; INSERT outbox; COMMIT), the same three rows in one raw statement (equal
 * work in one round trip, as Conveyor's append does it) and Emmett's PostgreSQL event store (its
 * append writes neither an outbox row nor a claim).
 */
export async function storeAppend(ctx: BenchContext): Promise<SuiteResult> {
  const name = `bench_store_${Date.now()}`;
  const url = await createDatabase(ctx.adminUrl, name);
  await migrate({
    url,
    schema,
    migrations: [
      { name: '0001_outbox', sql: messagingTablesSql.outbox },
      { name: '0001b_outbox_wake_after_commit', sql: messagingTablesSql.dropOutboxTrigger },
      { name: '0002_event_store', sql: eventStoreTablesSql },
      {
        name: '0003_raw',
        sql: `create table raw_events (position bigint generated always as identity primary key,
                stream_id text not null, version int not null, event_id uuid not null unique, type text not null,
                data jsonb not null, metadata jsonb not null default '{}', recorded_at timestamptz not null default now(),
                unique (stream_id, version));
              create table raw_outbox (position bigint generated always as identity primary key, event_id uuid not null unique,
                subject text not null, headers jsonb not null, payload bytea not null, created_at timestamptz not null default now());
              create table raw_claims (scope text not null, key text not null, stream_id text not null,
                claimed_at timestamptz not null default now(), primary key (scope, key));`,
      },
    ],
  });
  const rows: Row[] = [];
  const perSecond = new Map<string, number>();
  try {
    // Emmett gets a pool the bench owns, as large as ours at the highest
    // concurrency: its own default pool survived close() and crashed the bench
    // when the database was force-dropped under its idle connections.
    const emmettPool = createPool({
      url,
      schema: 'public',
      applicationName: 'bench-emmett',
      max: Math.max(...ctx.concurrencies),
    });
    const emmett = getPostgreSQLEventStore(url, {
      schema: { autoMigration: 'CreateOrUpdate' },
      connectionOptions: { pool: emmettPool, pooled: true },
    });
    await emmett.appendToStream(`warmup-${uuidv7()}`, [{ type: 'Warmup', data: {} }]);
    for (const concurrency of ctx.concurrencies) {
      const pool = createPool({ url, schema, applicationName: 'bench', max: concurrency });
      const store = new PostgresEventStore(pool);
      const systems: [string, () => Promise<void>][] = [
        [
          'raw 5-statement tx',
          async () => {
            const s = sample();
            const client = await pool.connect();
            try {
              await client.query('begin');
              await client.query('insert into raw_claims (scope, key, stream_id) values ($1, $2, $3)', [
                `place-order:${s.data.userId}`,
                s.key,
                `order-${s.orderId}`,
              ]);
              await client.query(
                'insert into raw_events (stream_id, version, event_id, type, data) values ($1, 1, $2, $3, $4)',
                [`order-${s.orderId}`, s.integration.id, 'OrderPlaced', JSON.stringify(s.data)],
              );
              await client.query(
                'insert into raw_outbox (event_id, subject, headers, payload) values ($1, $2, $3, $4)',
                [
                  s.integration.id,
                  s.integration.type,
                  JSON.stringify({ 'ce-id': s.integration.id }),
                  Buffer.from(JSON.stringify(s.integration.data)),
                ],
              );
              await client.query('commit');
            } finally {
              client.release();
            }
          },
        ],
        [
          'raw 1-statement append',
          async () => {
            const s = sample();
            await pool.query({
              name: 'raw-append',
              text: rawAppendSql,
              values: [
                `place-order:${s.data.userId}`,
                s.key,
                `order-${s.orderId}`,
                s.integration.id,
                JSON.stringify(s.data),
                s.integration.type,
                JSON.stringify({ 'ce-id': s.integration.id }),
                Buffer.from(JSON.stringify(s.integration.data)),
              ],
            });
          },
        ],
        [
          'conveyor event store',
          async () => {
            const s = sample();
            await store.appendToStream(
              `order-${s.orderId}`,
              [{ eventId: s.integration.id, type: 'OrderPlaced', data: s.data, metadata: {} }],
              {
                expectedVersion: 0,
                outbox: [s.integration],
                idempotency: { scope: `place-order:${s.data.userId}`, key: s.key },
              },
            );
          },
        ],
        [
          'emmett postgresql',
          async () => {
            const s = sample();
            await emmett.appendToStream(`order-${s.orderId}`, [{ type: 'OrderPlaced', data: s.data }]);
          },
        ],
      ];
      for (const [system, op] of systems) {
        await closedLoop(concurrency, Math.min(500, ctx.phaseMs / 4), () => op()); // warm-up
        const result = await closedLoop(concurrency, ctx.phaseMs, () => op());
        const l = result.latency.summary();
        ctx.log(
          `store append · ${system} @${concurrency}: ${result.perSecond.toFixed(0)}/s, p99 ${l.p99} ms`,
        );
        rows.push({
          group: 'event store append',
          name: system,
          concurrency,
          perSecond: result.perSecond,
          ...l,
          ...(result.errors ? { note: `${result.errors} errors: ${result.firstError}` } : {}),
          ...(system === 'emmett postgresql' ? { note: 'no outbox row, no idempotency claim' } : {}),
        });
        perSecond.set(`${system}@${concurrency}`, result.perSecond);
      }
      await pool.end();
    }
    await emmett.close();
    if (!emmettPool.ending) await emmettPool.end(); // close() may have ended it
  } finally {
    await dropDatabase(ctx.adminUrl, name);
  }
  const ratio = (a: string, b: string, c: number) =>
    (perSecond.get(`${a}@${c}`) ?? 0) / (perSecond.get(`${b}@${c}`) || 1);
  const ratios = ctx.concurrencies
    .filter((c) => c >= 8)
    .flatMap((c) => [
      {
        name: `append vs Emmett @${c}`,
        value: ratio('conveyor event store', 'emmett postgresql', c),
        target: 1.3,
      },
      {
        name: `append vs raw 5-statement tx @${c}`,
        value: ratio('conveyor event store', 'raw 5-statement tx', c),
        target: 1.0,
      },
      // Equal work in equal round trips: what Conveyor's append costs beyond the rows it writes.
      {
        name: `append vs raw 1-statement append @${c}`,
        value: ratio('conveyor event store', 'raw 1-statement append', c),
      },
    ]);
  return { rows, ratios, checks: [] };
}
