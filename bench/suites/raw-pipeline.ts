import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ordersV1 } from '@conveyor/contracts';
import { callUnary, insecure, outboxRelayDefaults } from '@conveyor/platform';
import {
  createDatabase,
  dropDatabase,
  serviceRuntimeEnv,
  startMailSink,
  startNatsServer,
} from '@conveyor/stack';
import { AckPolicy, DeliverPolicy, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { loadNotificationsConfig } from '../../services/notifications/src/config.ts';
import { loadOrdersConfig } from '../../services/orders/src/config.ts';
import type { BenchContext, SuiteResult } from '../lib/context.ts';
import { measurePipeline } from '../lib/measure-pipeline.ts';
import { rawSchemaSql, rawStream } from '../raw-pipeline/schema.ts';

/**
 * The ceiling for Conveyor's figures, measured the same way in the same run: bench/raw-pipeline's
 * two processes do per order the durable effects Conveyor does (append with outbox row and
 * idempotency claim, publish after commit, projection upsert, inbox + notification record, mail,
 * settle) with the same pools, relay batch, consumer concurrency and ack-pending window as
 * Conveyor's defaults, read from Conveyor's own configuration so the two move together.
 */
export async function rawPipeline(ctx: BenchContext): Promise<SuiteResult> {
  const conveyor = conveyorSettings();
  const name = `bench_raw_${Date.now()}`;
  const url = await createDatabase(ctx.adminUrl, name);
  const store = mkdtempSync(join(tmpdir(), 'conveyor-bench-raw-nats-'));
  const nats = await startNatsServer({ port: 0, storeDir: store });
  const sink = await startMailSink();
  const observer = new pg.Pool({ connectionString: url, max: 2 });
  const children: ChildProcess[] = [];
  try {
    await observer.query(rawSchemaSql);
    await createStream(nats.url, conveyor);
    const customers = Array.from({ length: 50 }, (_, i) => ({ id: uuidv7(), email: `raw-${i}@example.com` }));
    await observer.query(
      `insert into raw_notifications.recipients (user_id, email, name)
       select id, email, 'Customer ' || ordinality from unnest($1::uuid[], $2::text[]) with ordinality as c(id, email)`,
      [customers.map((c) => c.id), customers.map((c) => c.email)],
    );
    const common = { DATABASE_URL: url, NATS_URL: nats.url };
    const orders = await startChild('raw-orders', {
      ...common,
      POOL_SIZE: String(conveyor.ordersPool),
      RELAY_BATCH: String(conveyor.relayBatch),
      APPEND_GROUP: String(conveyor.appendGroup),
      PROJECTION_CONCURRENCY: String(conveyor.projectionConcurrency),
    });
    children.push(orders.child);
    const notifications = await startChild('raw-notifications', {
      ...common,
      POOL_SIZE: String(conveyor.notificationsPool),
      CONSUMER_CONCURRENCY: String(conveyor.consumerConcurrency),
      SMTP_PORT: String(sink.port),
      SMTP_POOL_SIZE: String(conveyor.smtpPool),
    });
    children.push(notifications.child);
    const client = new ordersV1.OrderServiceClient(`127.0.0.1:${orders.port}`, insecure());
    ctx.log(`raw pipeline · settings as Conveyor's: ${JSON.stringify(conveyor)}`);
    const measured = await measurePipeline(ctx, {
      label: 'raw pipeline',
      place: async (i) => {
        const { order } = await callUnary(
          client,
          client.placeOrder,
          {
            userId: customers[i % customers.length]!.id,
            items: [{ sku: 'MUG-001', quantity: 1 }],
            idempotencyKey: randomUUID(),
          },
          { deadlineMs: 10_000 },
        );
        return order!.id;
      },
      ordersSchema: 'raw_orders',
      sink,
      baseMails: 0,
      cpu: {
        system: {
          postgres: ctx.postgresPids,
          'nats-server': () => [nats.pid],
          'raw orders': () => [orders.child.pid ?? 0],
          'raw notifications': () => [notifications.child.pid ?? 0],
        },
        harness: { 'load generator': () => [process.pid], 'mail sink': () => [sink.pid] },
      },
      observer,
      database: name,
      statementStats: ctx.statementStats,
    });
    client.close();
    return measured;
  } finally {
    await Promise.all(children.map((c) => stopChild(c)));
    await observer.end();
    await sink.stop();
    await nats.stop();
    rmSync(store, { recursive: true, force: true });
    await dropDatabase(ctx.adminUrl, name);
  }
}

/** The knobs the ceiling shares with Conveyor, from Conveyor's configuration defaults. */
function conveyorSettings() {
  const required = { DATABASE_URL: 'postgres://x@127.0.0.1/x' };
  const orders = loadOrdersConfig(required);
  const notifications = loadNotificationsConfig(required);
  return {
    ordersPool: orders.DATABASE_POOL_SIZE,
    appendGroup: orders.APPEND_GROUP_COMMIT,
    relayBatch: outboxRelayDefaults.batchSize,
    projectionConcurrency: orders.PROJECTION_CONCURRENCY,
    projectionAckWaitMs: orders.PROJECTION_ACK_WAIT_MS,
    // As notifications sizes its pool (service.ts).
    notificationsPool: Math.min(notifications.CONSUMER_CONCURRENCY + 4, 40),
    consumerConcurrency: notifications.CONSUMER_CONCURRENCY,
    consumerAckWaitMs: notifications.CONSUMER_ACK_WAIT_MS,
    smtpPool: notifications.SMTP_POOL_SIZE,
  };
}

/** The stream as Conveyor configures ORDERS (limits, file, 2-minute duplicate window) and both durables. */
async function createStream(natsUrl: string, s: ReturnType<typeof conveyorSettings>): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: rawStream.name,
      subjects: [rawStream.subject],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      duplicate_window: nanos(2 * 60 * 1000),
      num_replicas: 1,
    });
    for (const [durable, concurrency, ackWaitMs] of [
      ['raw-projections', s.projectionConcurrency, s.projectionAckWaitMs],
      ['raw-notifications', s.consumerConcurrency, s.consumerAckWaitMs],
    ] as const) {
      await jsm.consumers.add(rawStream.name, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(ackWaitMs),
        max_deliver: 20,
        max_ack_pending: concurrency * 4,
      });
    }
  } finally {
    await nc.close();
  }
}

/** Forks bench/raw-pipeline/<file>.ts with the services' runtime flags; waits for its ready message. */
async function startChild(
  file: string,
  env: Record<string, string>,
): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(new URL(`../raw-pipeline/${file}.ts`, import.meta.url).pathname, [], {
    env: { ...process.env, ...serviceRuntimeEnv(), ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} was not ready within 20 s`)), 20_000);
    child.once('exit', (code) => reject(new Error(`${file} exited (${code}) before it was ready`)));
    child.once('message', (m: { port?: number }) => {
      clearTimeout(timer);
      resolve(m.port ?? 0);
    });
  });
  child.removeAllListeners('exit');
  return { child, port };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
