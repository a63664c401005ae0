import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  appendToOutbox,
  connectNats,
  createMetricsRegistry,
  ensureStreams,
  manager,
  messagingTablesSql,
  migrate,
  newEvent,
  OutboxRelay,
} from '@conveyor/platform';
import { createDatabase, dropDatabase, startNatsServer, waitUntil } from '@conveyor/stack';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { pino } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import type { BenchContext, SuiteResult } from '../lib/context.ts';
import type { Row } from '../lib/report.ts';

/**
 * JetStream baselines (raw nats.js publish awaited one by one and with an
 * async window of 256; pull consume with explicit acks) and the outbox relay
 * draining a backlog through the same server, so the relay's rate reads
 * against the transport's own ceiling.
 */
export async function natsBaseline(ctx: BenchContext): Promise<SuiteResult> {
  const store = mkdtempSync(join(tmpdir(), 'conveyor-bench-nats-'));
  const nats = await startNatsServer({ port: 0, storeDir: store });
  const rows: Row[] = [];
  const checks: SuiteResult['checks'] = [];
  const count = ctx.smoke ? 2000 : 50_000;
  try {
    const nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'BENCH', subjects: ['bench.>'] });
    const js = jetstream(nc);
    const payload = new TextEncoder().encode(
      JSON.stringify({ orderId: uuidv7(), total: { amountMinor: 2500, currency: 'EUR' } }),
    );

    let t0 = performance.now();
    const awaitedCount = Math.min(count, ctx.smoke ? 500 : 10_000);
    for (let i = 0; i < awaitedCount; i++) await js.publish('bench.awaited', payload);
    rows.push({
      group: 'nats baseline',
      name: 'publish, awaited each',
      concurrency: 1,
      perSecond: awaitedCount / ((performance.now() - t0) / 1000),
    });

    t0 = performance.now();
    const window: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      window.push(js.publish('bench.async', payload, { msgID: `m-${i}` }));
      if (window.length >= 256) await Promise.all(window.splice(0));
    }
    await Promise.all(window);
    rows.push({
      group: 'nats baseline',
      name: 'publish, async window 256',
      concurrency: 256,
      perSecond: count / ((performance.now() - t0) / 1000),
    });

    await jsm.consumers.add('BENCH', {
      durable_name: 'bench',
      ack_policy: AckPolicy.Explicit,
      filter_subject: 'bench.async',
    });
    const consumer = await js.consumers.get('BENCH', 'bench');
    t0 = performance.now();
    let consumed = 0;
    const messages = await consumer.consume({ max_messages: 512 });
    for await (const m of messages) {
      m.ack();
      if (++consumed >= count) break;
    }
    rows.push({
      group: 'nats baseline',
      name: 'pull consume, explicit ack',
      concurrency: 512,
      perSecond: count / ((performance.now() - t0) / 1000),
    });
    await nc.close();

    rows.push(...(await relayDrain(ctx, nats.url, count)));
    checks.push({
      name: 'nats baseline',
      ok: consumed === count,
      detail: `${consumed} of ${count} consumed`,
    });
  } finally {
    await nats.stop();
    rmSync(store, { recursive: true, force: true });
  }
  for (const r of rows) ctx.log(`${r.group} · ${r.name}: ${r.perSecond.toFixed(0)}/s`);
  return { rows, ratios: [], checks };
}

/** Fills the outbox, then times the relay draining it to JetStream. */
async function relayDrain(ctx: BenchContext, natsUrl: string, count: number): Promise<Row[]> {
  const name = `bench_relay_${Date.now()}`;
  const url = await createDatabase(ctx.adminUrl, name);
  const logger = pino({ level: 'warn' });
  try {
    await migrate({
      url,
      schema: 'relay',
      migrations: [
        { name: '0001_outbox', sql: messagingTablesSql.outbox },
        { name: '0002_outbox_wake_after_commit', sql: messagingTablesSql.dropOutboxTrigger },
      ],
    });
    const pool = new pg.Pool({ connectionString: url, options: '-c search_path=relay', max: 4 });
    for (let i = 0; i < count; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, count - i) }, () =>
        newEvent(
          'user.erased',
          { userId: uuidv7(), erasedAt: new Date().toISOString() },
          { source: 'bench' },
        ),
      );
      await appendToOutbox(pool, batch);
    }
    const nc = await connectNats({ url: natsUrl, name: 'bench-relay', logger });
    await ensureStreams(await manager(nc));
    const registry = createMetricsRegistry('bench');
    const relay = new OutboxRelay({ url, schema: 'relay', nc, logger, registry, batchSize: 512 });
    const t0 = performance.now();
    relay.start();
    await waitUntil(async () => (await pool.query('select count(*)::int as n from outbox')).rows[0].n === 0, {
      timeoutMs: 300_000,
      intervalMs: 50,
      message: 'relay did not drain the outbox',
    });
    const seconds = (performance.now() - t0) / 1000;
    await relay.stop();
    await nc.close();

    // Live commit → PubAck latency: one row at a time through a running relay.
    const live = new OutboxRelay({
      url,
      schema: 'relay',
      nc: await connectNats({ url: natsUrl, name: 'bench-live', logger }),
      logger,
      registry: createMetricsRegistry('bench-live'),
    });
    live.start();
    await waitUntil(() => live.active, { timeoutMs: 10_000, message: 'relay not active' });
    const samples: number[] = [];
    const sampleCount = ctx.smoke ? 20 : 200;
    for (let i = 0; i < sampleCount; i++) {
      const t = performance.now();
      await appendToOutbox(pool, [
        newEvent(
          'user.erased',
          { userId: uuidv7(), erasedAt: new Date().toISOString() },
          { source: 'bench' },
        ),
      ]);
      live.signalCommitted();
      await waitUntil(async () => (await pool.query('select 1 from outbox limit 1')).rowCount === 0, {
        timeoutMs: 10_000,
        intervalMs: 1,
        message: 'row not relayed',
      });
      samples.push(performance.now() - t);
    }
    await live.stop();
    await pool.end();
    samples.sort((a, b) => a - b);
    const p = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
    return [
      {
        group: 'outbox relay',
        name: 'drain a backlog to JetStream',
        concurrency: 1,
        perSecond: count / seconds,
      },
      {
        group: 'outbox relay',
        name: 'commit → row deleted after PubAck (polled)',
        concurrency: 1,
        perSecond: 0,
        p50: p(0.5),
        p99: p(0.99),
        note: `${sampleCount} samples; includes 1 ms polling of the outbox`,
      },
    ];
  } finally {
    await dropDatabase(ctx.adminUrl, name);
  }
}
