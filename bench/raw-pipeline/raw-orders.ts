/**
 * The raw pipeline's order side, the ceiling Conveyor's orders service is compared with: a bare
 * grpc-js PlaceOrder (the same wire contract), one statement that claims the idempotency key and
 * writes the event and its outbox row, a relay that publishes the outbox after commit and deletes
 * what JetStream acknowledged, and a projection consumer with one upsert per event. node-pg and
 * nats.js only; no Conveyor runtime code. Started by bench/suites/raw-pipeline.ts with IPC.
 *
 * Settings (environment): DATABASE_URL, NATS_URL, POOL_SIZE, RELAY_BATCH, APPEND_GROUP,
 * PROJECTION_CONCURRENCY.
 */
import { ordersV1 } from '@conveyor/contracts';
import * as grpc from '@grpc/grpc-js';
import { jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { consume } from './consume.ts';
import { rawStream } from './schema.ts';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const url = env('DATABASE_URL');
const relayBatch = Number(env('RELAY_BATCH'));
const pool = new pg.Pool({ connectionString: url, max: Number(env('POOL_SIZE')) });
const nc = await connect({ servers: env('NATS_URL') });
const js = jetstream(nc);

// The catalog as Conveyor's cache holds it between refreshes.
const prices = new Map([
  ['MUG-001', 1250],
  ['STICKER-PACK', 500],
]);

const appendSql = `
  with claim as (
    insert into raw_orders.idempotency_claims (scope, key, stream_id) values ($1, $2, $3)
    on conflict do nothing returning 1
  ), event as (
    insert into raw_orders.events (stream_id, version, event_id, type, data)
    select $3, 1, $4, 'order.created', $5::jsonb where exists (select 1 from claim)
    returning position
  ), outboxed as (
    insert into raw_orders.outbox (event_id, subject, headers, payload)
    select $4, '${rawStream.subject}', $6::jsonb, $7 where exists (select 1 from event)
  )
  select position from event`;

// Group commit, as Conveyor's event store does it: appends that arrive while one is in flight go
// together in one statement (the first alone at once); a failed group falls back to one by one.
const appendManySql = `
  with a as (
    select * from unnest($1::text[], $2::text[], $3::text[], $4::uuid[], $5::jsonb[], $6::jsonb[], $7::bytea[])
      as a(scope, key, stream_id, event_id, data, headers, payload)
  ), claim as (
    insert into raw_orders.idempotency_claims (scope, key, stream_id) select scope, key, stream_id from a
    on conflict do nothing returning stream_id
  ), event as (
    insert into raw_orders.events (stream_id, version, event_id, type, data)
    select a.stream_id, 1, a.event_id, 'order.created', a.data from a join claim using (stream_id)
    returning stream_id
  ), outboxed as (
    insert into raw_orders.outbox (event_id, subject, headers, payload)
    select a.event_id, '${rawStream.subject}', a.headers, a.payload from a join event using (stream_id)
  )
  select stream_id from event`;

type AppendValues = [string, string, string, string, string, string, Buffer];
const appendGroup = Number(env('APPEND_GROUP'));
const waiting: { values: AppendValues; done: (ok: boolean) => void; fail: (e: unknown) => void }[] = [];
let appending = false;

function append(values: AppendValues): Promise<boolean> {
  return new Promise((done, fail) => {
    waiting.push({ values, done, fail });
    if (!appending) void appendLoop();
  });
}

async function appendOne(w: (typeof waiting)[number]): Promise<void> {
  await pool
    .query({ name: 'append', text: appendSql, values: w.values })
    .then((r) => w.done(r.rows.length > 0), w.fail);
}

async function appendLoop(): Promise<void> {
  appending = true;
  while (waiting.length > 0) {
    const group = waiting.splice(0, appendGroup);
    if (group.length === 1) {
      await appendOne(group[0]!);
      continue;
    }
    try {
      const { rows } = await pool.query<{ stream_id: string }>({
        name: 'append-many',
        text: appendManySql,
        values: [0, 1, 2, 3, 4, 5, 6].map((c) => group.map((w) => w.values[c])),
      });
      const written = new Set(rows.map((r) => r.stream_id));
      for (const w of group) w.done(written.has(w.values[2]));
    } catch {
      for (const w of group) await appendOne(w);
    }
  }
  appending = false;
}

async function placeOrder(request: ordersV1.PlaceOrderRequest): Promise<ordersV1.PlaceOrderResponse> {
  const orderId = uuidv7();
  const eventId = uuidv7();
  const placedAt = new Date();
  const items = request.items.map((i) => {
    const price = prices.get(i.sku);
    if (price === undefined) throw Object.assign(new Error(`${i.sku} unknown`), { code: 3 });
    return { sku: i.sku, quantity: i.quantity, unitPrice: { amountMinor: price, currency: 'EUR' } };
  });
  const total = {
    amountMinor: items.reduce((s, i) => s + i.quantity * i.unitPrice.amountMinor, 0),
    currency: 'EUR',
  };
  const data = JSON.stringify({
    orderId,
    userId: request.userId,
    items,
    total,
    placedAt: placedAt.toISOString(),
  });
  const headers = {
    'ce-specversion': '1.0',
    'ce-id': eventId,
    'ce-type': rawStream.subject,
    'ce-source': 'raw-pipeline',
    'ce-subject': orderId,
    'ce-time': placedAt.toISOString(),
  };
  const appended = await append([
    `place-order:${request.userId}`,
    request.idempotencyKey,
    `order-${orderId}`,
    eventId,
    data,
    JSON.stringify(headers),
    Buffer.from(data),
  ]);
  if (!appended) throw Object.assign(new Error('idempotency key used before'), { code: 6 });
  relay.wake();
  return {
    order: {
      id: orderId,
      userId: request.userId,
      status: ordersV1.OrderStatus.ORDER_STATUS_PLACED,
      items: items.map((i) => ({ sku: i.sku, quantity: i.quantity, unitPrice: i.unitPrice })),
      total,
      version: 1,
      placedAt,
      paidAt: undefined,
      shippedAt: undefined,
      deliveredAt: undefined,
      cancelledAt: undefined,
      carrier: '',
      trackingNumber: '',
      cancelReason: '',
    },
    replayed: false,
  } as ordersV1.PlaceOrderResponse;
}

/** Publishes outbox rows in batches after commit; deletes them once JetStream acknowledged them. */
const relay = (() => {
  const client = new pg.Client({ connectionString: url });
  let wake: (() => void) | undefined;
  let woken = false;
  let running = true;
  let acked: string[] = [];
  const loop = (async () => {
    await client.connect();
    while (running) {
      woken = false;
      const { rows } = await client.query<{
        position: string;
        event_id: string;
        subject: string;
        headers: Record<string, string>;
        payload: Buffer;
      }>({
        name: 'relay-read',
        // Deletes what the last batch published and reads the next, in one round trip, as Conveyor's relay.
        text: `with gone as (delete from raw_orders.outbox where position = any($2::bigint[]))
               select position, event_id, subject, headers, payload from raw_orders.outbox
               where position <> all($2::bigint[]) order by position limit $1`,
        values: [relayBatch, acked],
      });
      acked = [];
      if (rows.length > 0) {
        await Promise.all(
          rows.map((row) => {
            const h = natsHeaders();
            for (const [k, v] of Object.entries(row.headers)) h.set(k, v);
            return js.publish(row.subject, row.payload, { msgID: row.event_id, headers: h });
          }),
        );
        acked = rows.map((r) => r.position);
      }
      if (rows.length < relayBatch && !woken && running) {
        if (acked.length > 0) {
          await client.query({
            name: 'relay-delete',
            text: 'delete from raw_orders.outbox where position = any($1::bigint[])',
            values: [acked],
          });
          acked = [];
        }
        await new Promise<void>((resolve) => {
          const idle = setTimeout(resolve, 2000);
          wake = () => {
            clearTimeout(idle);
            resolve();
          };
        });
      }
    }
    await client.end();
  })().catch((error) => {
    console.error(`relay: ${(error as Error).message}`);
    process.exit(1);
  });
  return {
    wake() {
      woken = true;
      wake?.();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
  };
})();

// One statement per batch: every order of the batch, newest version wins (order.created only here).
const upsertSql = `
  insert into raw_orders.order_summaries (order_id, user_id, status, items, total_minor, currency, item_count, version,
    placed_at, updated_at, projected_at)
  select o.order_id, o.user_id, 'placed', o.items, o.total_minor, o.currency, o.item_count, 1, o.placed_at, o.placed_at,
    clock_timestamp()
  from unnest($1::uuid[], $2::uuid[], $3::jsonb[], $4::bigint[], $5::text[], $6::int[], $7::timestamptz[])
    as o(order_id, user_id, items, total_minor, currency, item_count, placed_at)
  on conflict (order_id) do update set status = excluded.status, items = excluded.items, version = excluded.version,
    updated_at = excluded.updated_at, projected_at = excluded.projected_at
  where raw_orders.order_summaries.version < excluded.version`;

const projections = await consume(
  nc,
  rawStream.name,
  'raw-projections',
  Number(env('PROJECTION_CONCURRENCY')),
  async (batch) => {
    const orders = batch.map(
      (m) =>
        JSON.parse(Buffer.from(m.data).toString()) as {
          orderId: string;
          userId: string;
          items: { quantity: number }[];
          total: { amountMinor: number; currency: string };
          placedAt: string;
        },
    );
    await pool.query({
      name: 'project',
      text: upsertSql,
      values: [
        orders.map((o) => o.orderId),
        orders.map((o) => o.userId),
        orders.map((o) => JSON.stringify(o.items)),
        orders.map((o) => o.total.amountMinor),
        orders.map((o) => o.total.currency),
        orders.map((o) => o.items.reduce((s, i) => s + i.quantity, 0)),
        orders.map((o) => o.placedAt),
      ],
    });
  },
);

const server = new grpc.Server();
server.addService({ placeOrder: ordersV1.OrderServiceService.placeOrder } as grpc.ServiceDefinition, {
  placeOrder: (
    call: grpc.ServerUnaryCall<ordersV1.PlaceOrderRequest, ordersV1.PlaceOrderResponse>,
    callback: grpc.sendUnaryData<ordersV1.PlaceOrderResponse>,
  ) => {
    placeOrder(call.request).then(
      (response) => callback(null, response),
      (error: Error & { code?: number }) =>
        callback({ code: error.code ?? grpc.status.INTERNAL, details: error.message }),
    );
  },
});
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
    error ? reject(error) : resolve(bound),
  ),
);
process.send?.({ type: 'ready', port });

process.on('SIGTERM', async () => {
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  await projections.stop();
  await relay.stop();
  await nc.drain();
  await pool.end();
  process.exit(0);
});
