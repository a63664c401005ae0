import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from '@conveyor/stack';
import { testNats } from '@conveyor/stack/testing';
import { DeliverPolicy, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type pg from 'pg';
import { pino } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { AppError } from '../errors.ts';
import { messagingTablesSql } from '../postgres/migrate.ts';
import { type SchemaFixture, schemaFixture } from '../testing/schema-fixture.ts';
import { encodeData, newEvent, toHeaders } from './cloud-event.ts';
import { ConsumerControls, consumerControlsTableSql } from './consumer-controls.ts';
import type { BatchHandler, PausableConsumer } from './event-consumer.ts';
import { recordManyInInbox } from './inbox.ts';
import { ensureDurableConsumer, ensureStreams } from './topology.ts';

const logger = pino({ level: 'silent' });
const day = 86_400_000;

const refused = (code: string, pattern: RegExp) => (error: unknown) =>
  error instanceof AppError && error.code === code && pattern.test(error.message);

/**
 * Consumer controls (issue 27, ADR 0033) against a real nats-server and Postgres: a pause every
 * replica obeys, resume, and a reset that replays a range through an inbox without a second effect.
 */
describe('consumer controls (real NATS and Postgres)', () => {
  let nats: Awaited<ReturnType<typeof testNats>>;
  let tables: SchemaFixture;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let pool: pg.Pool;

  before(async () => {
    [nats, tables] = await Promise.all([
      testNats(),
      schemaFixture({
        name: 'controls',
        schema: 'controlstest',
        tables: { '0001_inbox': messagingTablesSql.inbox, '0002_controls': consumerControlsTableSql },
        poolMax: 8,
      }),
    ]);
    pool = tables.pool;
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
    await ensureStreams(jsm);
  });
  after(async () => {
    await nc?.close();
    await Promise.all([nats?.stop(), tables?.stop()]);
  });

  async function publish(count: number): Promise<void> {
    const js = jetstream(nc);
    for (let i = 0; i < count; i++) {
      const orderId = uuidv7();
      const event = newEvent(
        'order.delivered',
        { orderId, userId: uuidv7(), deliveredAt: new Date().toISOString() },
        { source: 'test', subject: orderId },
      );
      const h = natsHeaders();
      for (const [k, v] of Object.entries(toHeaders(event))) if (k !== 'Nats-Msg-Id') h.set(k, v);
      await js.publish(event.type, encodeData(event), { msgID: event.id, headers: h });
    }
  }

  /** Handles through an inbox, as notifications do: `effects` counts events applied, `deliveries` every one seen. */
  function world(durable: string) {
    const seen = { deliveries: 0, effects: 0 };
    const handler: BatchHandler = async (batch) => {
      seen.deliveries += batch.length;
      const fresh = await recordManyInInbox(
        pool,
        durable,
        batch.map((b) => b.event.id),
      );
      seen.effects += fresh.size;
      return batch.map(() => ({ kind: 'ack' as const }));
    };
    return { seen, handler };
  }

  /** The durable every test's replicas share (a name of its own per test). */
  const durableOf = (durable: string) => ({
    stream: 'ORDERS',
    durable,
    filterSubjects: ['order.>'],
    maxDeliver: 3,
    ackWaitMs: 5000,
    maxAckPending: 64,
  });

  /** `polls.length` processes' worth of controls and consumers on one durable. */
  async function replicas(durable: string, handler: BatchHandler, polls: readonly number[]) {
    const started: { controls: ConsumerControls; consumer: PausableConsumer }[] = [];
    const add = async (pollMs: number, name: string, manageTopology = true) => {
      const controls = new ConsumerControls({ pool, jsm, logger, pollMs, manageTopology, replica: name });
      const consumer = await controls.startConsumer(durableOf(durable), {
        nc,
        handler: { batch: handler },
        logger,
        batchSize: 4,
        backoffMs: [20],
      });
      controls.start();
      started.push({ controls, consumer });
      return { controls, consumer };
    };
    for (const [i, pollMs] of polls.entries()) await add(pollMs, `replica-${i}`);
    return {
      all: started,
      add,
      first: started[0]!.controls,
      async stop() {
        for (const r of started) {
          await r.controls.stop();
          await r.consumer.stop();
        }
      },
    };
  }

  const info = (durable: string) => jsm.consumers.info('ORDERS', durable);
  const lastSeq = async () => (await jsm.streams.info('ORDERS')).state.last_seq;
  /** Until every message of the stream is acknowledged, none pending: nothing more can be delivered. */
  const catchUp = (durable: string) =>
    waitUntil(
      async () => {
        const i = await info(durable);
        return i.num_pending === 0 && i.num_ack_pending === 0 && i.ack_floor.stream_seq === (await lastSeq());
      },
      { timeoutMs: 10_000, message: 'the consumer to catch up' },
    );
  /** Until `count` replicas report the latest pause obeyed. */
  const allPaused = (controls: ConsumerControls, durable: string, count: number) =>
    waitUntil(
      async () => {
        const s = await controls.status('ORDERS', durable);
        return s.replicas.length === count && s.replicas.every((x) => x.paused && x.current);
      },
      { timeoutMs: 5000, message: 'every replica to obey the pause' },
    );

  it('pauses every replica (one started paused too), leaves messages in the stream, and resumes', async () => {
    const durable = `pause-${uuidv7().slice(-6)}`;
    const { seen, handler } = world(durable);
    // A new durable delivers the stream from its start: the earlier tests' messages too.
    const base = await lastSeq();
    const r = await replicas(durable, handler, [100, 100]);
    try {
      await publish(6);
      await catchUp(durable);
      assert.equal(seen.effects, base + 6);

      const status = await r.first.pause('ORDERS', durable, 'admin-1', 'mail provider outage');
      assert.equal(status.paused, true);
      assert.equal(status.changedBy, 'admin-1');
      assert.equal(status.reason, 'mail provider outage');
      // A replica starting now starts paused.
      const late = await r.add(100, 'replica-late');
      assert.equal(late.consumer.paused, true);
      await allPaused(r.first, durable, 3);
      await publish(5);
      // Nobody pulls: the messages wait undelivered in the stream.
      const paused = await info(durable);
      assert.equal(paused.num_pending, 5);
      assert.equal(paused.num_ack_pending, 0);
      assert.equal(seen.deliveries, base + 6);
      const listed = await r.first.list();
      assert.equal(listed[0]?.pending, 5);
      assert.equal(listed[0]?.paused, true);

      await r.all[1]!.controls.resume('ORDERS', durable, 'admin-2');
      await catchUp(durable);
      assert.equal(seen.effects, base + 11);
      const resumed = await r.first.status('ORDERS', durable);
      assert.equal(resumed.paused, false);
      assert.equal(resumed.changedBy, 'admin-2');
    } finally {
      await r.stop();
    }
  });

  it('refuses a reset while running, while a replica has not obeyed the pause, under managed topology, and out of range', async () => {
    const durable = `refuse-${uuidv7().slice(-6)}`;
    const { handler } = world(durable);
    // The second replica reads the flags once a minute: it has not seen the pause.
    const r = await replicas(durable, handler, [100, 60_000]);
    try {
      await publish(2);
      const now = new Date();
      await assert.rejects(
        r.first.reset('ORDERS', durable, { sequence: 1 }, 'admin'),
        refused('FAILED_PRECONDITION', /is not paused: pause it first/),
      );
      await r.first.pause('ORDERS', durable, 'admin', '');
      await assert.rejects(
        r.first.reset('ORDERS', durable, { sequence: 1 }, 'admin'),
        refused('FAILED_PRECONDITION', /replicas still pulling.*replica-1/),
      );
      // A replica whose durables are infrastructure (it starts paused: the flag is set).
      const { controls: managed } = await r.add(100, 'replica-managed', false);
      await assert.rejects(
        managed.reset('ORDERS', durable, { sequence: 1 }, 'admin'),
        refused('FAILED_PRECONDITION', /NATS_MANAGE_TOPOLOGY=false/),
      );
      await assert.rejects(
        r.first.reset('ORDERS', durable, { time: new Date(now.getTime() - 36 * day) }, 'admin'),
        refused('FAILED_PRECONDITION', /older than the inbox retention \(35 days\)/),
      );
      await assert.rejects(
        r.first.reset('ORDERS', durable, { time: new Date(now.getTime() + 60_000) }, 'admin'),
        refused('INVALID_ARGUMENT', /time: is in the future/),
      );
      await assert.rejects(
        r.first.reset('ORDERS', durable, { sequence: (await lastSeq()) + 2 }, 'admin'),
        refused('INVALID_ARGUMENT', /past the end of ORDERS/),
      );
      await assert.rejects(
        r.first.reset('ORDERS', 'nobody', { sequence: 1 }, 'admin'),
        refused('NOT_FOUND', /ORDERS\/nobody not found/),
      );
      // Nothing was recreated.
      assert.equal((await info(durable)).config.deliver_policy, DeliverPolicy.All);
    } finally {
      await r.stop();
    }
  });

  it('resets to a sequence: the range is delivered again and the inbox keeps each effect once; a restart keeps the start', async () => {
    const durable = `reset-${uuidv7().slice(-6)}`;
    const { seen, handler } = world(durable);
    const before = await lastSeq();
    const r = await replicas(durable, handler, [100, 100]);
    try {
      await publish(8);
      await catchUp(durable);
      assert.equal(seen.effects, before + 8);
      await r.first.pause('ORDERS', durable, 'admin', 'replay');
      await allPaused(r.first, durable, 2);
      const from = before + 3;
      const reset = await r.first.reset('ORDERS', durable, { sequence: from }, 'admin');
      assert.equal(reset.paused, true, 'a reset leaves the consumer paused');
      assert.equal(reset.startsAt, `sequence ${from}`);
      assert.match(reset.lastReset, new RegExp(`^to sequence ${from} at .* by admin$`));
      assert.equal(reset.pending, 6, 'the range waits to be delivered again');
      assert.equal(seen.deliveries, before + 8);

      await r.first.resume('ORDERS', durable, 'admin');
      await catchUp(durable);
      assert.equal(seen.deliveries, before + 8 + 6, 'the range was delivered again');
      assert.equal(seen.effects, before + 8, 'and took no effect twice');

      // A replica restarting after the reset updates the durable without moving its start.
      await ensureDurableConsumer(jsm, durableOf(durable));
      const kept = (await info(durable)).config;
      assert.equal(kept.deliver_policy, DeliverPolicy.StartSequence);
      assert.equal(kept.opt_start_seq, from);
    } finally {
      await r.stop();
    }
  });

  it('resets to a time', async () => {
    const durable = `time-${uuidv7().slice(-6)}`;
    const { seen, handler } = world(durable);
    const base = await lastSeq();
    const r = await replicas(durable, handler, [100]);
    try {
      await publish(3);
      await catchUp(durable);
      const at = new Date();
      await publish(2);
      await catchUp(durable);
      await r.first.pause('ORDERS', durable, 'admin', '');
      const reset = await r.first.reset('ORDERS', durable, { time: at }, 'admin');
      assert.equal(reset.startsAt, `time ${at.toISOString()}`);
      await r.first.resume('ORDERS', durable, 'admin');
      await catchUp(durable);
      assert.equal(seen.deliveries, base + 5 + 2);
      assert.equal(seen.effects, base + 5);
    } finally {
      await r.stop();
    }
  });
});
