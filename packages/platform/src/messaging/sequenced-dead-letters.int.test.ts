import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Streams } from '@conveyor/contracts';
import { waitUntil } from '@conveyor/stack';
import { testNats } from '@conveyor/stack/testing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type pg from 'pg';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { v7 as uuidv7 } from 'uuid';
import { AppError } from '../errors.ts';
import { messagingTablesSql } from '../postgres/migrate.ts';
import { type SchemaFixture, schemaFixture } from '../testing/schema-fixture.ts';
import { type CloudEvent, encodeData, newEvent, toHeaders } from './cloud-event.ts';
import { ConsumerControls, consumerControlsTableSql } from './consumer-controls.ts';
import { readDeadLetter } from './dead-letters.ts';
import {
  type BatchHandler,
  type PausableConsumer,
  type RunningConsumer,
  startEventConsumer,
} from './event-consumer.ts';
import { startSequencedConsumers } from './sequenced-consumers.ts';
import { SequencedDeadLetters } from './sequenced-dead-letters.ts';
import { ensureDurableConsumer, ensureStreams } from './topology.ts';

const logger = pino({ level: 'silent' });
const userId = uuidv7();

function orderEvent(type: 'order.paid' | 'order.shipped' | 'order.delivered', orderId: string): CloudEvent {
  const at = new Date().toISOString();
  const data =
    type === 'order.paid'
      ? { orderId, userId, amount: { amountMinor: 100, currency: 'EUR' }, paidAt: at }
      : type === 'order.shipped'
        ? { orderId, userId, carrier: 'DHL', trackingNumber: 'T1', shippedAt: at }
        : { orderId, userId, deliveredAt: at };
  return newEvent(type, data, { source: 'test', subject: orderId });
}

/**
 * Sequenced dead letters (issue 24, ADR 0031) against a real nats-server and Postgres: a
 * failing event parks the later events of its order; other orders flow; redrive applies the
 * head and then the parked ones in order, discard drops the head and releases the rest.
 */
describe('sequenced dead letters (real NATS and Postgres)', () => {
  let nats: Awaited<ReturnType<typeof testNats>>;
  let tables: SchemaFixture;
  let nc: NatsConnection;
  let pool: pg.Pool;

  before(async () => {
    [nats, tables] = await Promise.all([
      testNats(),
      schemaFixture({
        name: 'sequences',
        schema: 'sequencestest',
        tables: {
          '0001_parked': messagingTablesSql.parkedMessages,
          '0002_controls': consumerControlsTableSql,
        },
        poolMax: 8,
      }),
    ]);
    pool = tables.pool;
    nc = await connect({ servers: nats.url });
    await ensureStreams(await jetstreamManager(nc));
  });
  after(async () => {
    await nc?.close();
    await Promise.all([nats?.stop(), tables?.stop()]);
  });

  async function publish(...events: CloudEvent[]): Promise<void> {
    const js = jetstream(nc);
    for (const event of events) {
      const h = natsHeaders();
      for (const [k, v] of Object.entries(toHeaders(event))) if (k !== 'Nats-Msg-Id') h.set(k, v);
      await js.publish(event.type, encodeData(event), { msgID: event.id, headers: h });
    }
  }

  /** A handler that applies events to `applied` and fails every event whose id is in `failing`. */
  function world() {
    const applied: string[] = [];
    const failing = new Set<string>();
    const handler: BatchHandler = async (batch) =>
      batch.map(({ event }) => {
        if (failing.has(event.id)) return { kind: 'retry', reason: `cannot apply ${event.type} for now` };
        applied.push(event.id);
        return { kind: 'ack' };
      });
    return { applied, failing, handler };
  }

  type Policy = { maxDeliver: number; backoffMs: number[] };

  async function ensureDurable(durable: string, policy: Policy, ackWaitMs: number): Promise<void> {
    await ensureDurableConsumer(await jetstreamManager(nc), {
      stream: 'ORDERS',
      durable,
      filterSubjects: ['order.>'],
      maxDeliver: policy.maxDeliver,
      ackWaitMs,
      maxAckPending: 64,
    });
  }

  /** One replica of `durable`: its sequenced dead letters, swept every 200 ms, and its consumer. */
  async function replica(durable: string, handler: BatchHandler, policy: Policy) {
    const sequences = new SequencedDeadLetters({
      pool,
      consumer: durable,
      handler,
      logger,
      ...policy,
      jsm: await jetstreamManager(nc),
      sweepMs: 200,
    });
    sequences.startSweeping();
    const consumer = await startEventConsumer({
      nc,
      stream: 'ORDERS',
      durable,
      handler: { batch: handler },
      logger,
      batchSize: 8,
      ...policy,
      sequences,
    });
    return { consumer, sequences };
  }

  async function consumers(
    durable: string,
    handler: BatchHandler,
    replicas: number,
    policy: Policy = { maxDeliver: 3, backoffMs: [20] },
  ) {
    await ensureDurable(durable, policy, 5000);
    const running: { consumer: RunningConsumer; sequences: SequencedDeadLetters }[] = [];
    for (let i = 0; i < replicas; i++) running.push(await replica(durable, handler, policy));
    return {
      sequences: running[0]!.sequences,
      replicas: running.map((r) => r.sequences),
      async stop() {
        for (const r of running) {
          await r.consumer.stop();
          await r.sequences.stop();
        }
      },
    };
  }

  const rows = async (durable: string) =>
    (
      await pool.query<{ id: string; state: string; subject: string; sequence_key: string }>(
        'select id::text, state, subject, sequence_key from parked_messages where consumer = $1 order by stream_sequence',
        [durable],
      )
    ).rows;

  for (const replicas of [1, 2]) {
    it(`${replicas} replica(s): a failing order.paid parks its order.shipped while other orders flow; redrive applies both in order`, async () => {
      const durable = `redrive-${replicas}`;
      const { applied, failing, handler } = world();
      const running = await consumers(durable, handler, replicas);
      try {
        const poisoned = uuidv7();
        const paid = orderEvent('order.paid', poisoned);
        failing.add(paid.id);
        await publish(paid);
        // The head is dead after its three deliveries (or retrying before): either way it holds the key.
        await waitUntil(async () => (await rows(durable)).some((r) => r.state === 'dead'), {
          timeoutMs: 10_000,
          message: 'order.paid dead-lettered',
        });
        const shipped = orderEvent('order.shipped', poisoned);
        const other = orderEvent('order.paid', uuidv7());
        await publish(shipped, other);
        await waitUntil(() => applied.includes(other.id), {
          timeoutMs: 5000,
          message: 'another order flows',
        });
        await waitUntil(async () => (await rows(durable)).length === 2, {
          timeoutMs: 5000,
          message: 'parked',
        });
        assert.deepEqual(
          (await rows(durable)).map((r) => [r.state, r.subject]),
          [
            ['dead', 'order.paid'],
            ['parked', 'order.shipped'],
          ],
        );
        assert.ok(!applied.includes(shipped.id), 'order.shipped waits behind order.paid');
        const [sequence] = (await running.sequences.list(undefined, 10)).items;
        assert.equal(sequence?.parkedBehind, 1);
        assert.equal(sequence?.head.eventId, paid.id);
        assert.equal(sequence?.head.sequenceKey, `orderId:${poisoned}`);
        // The dead letter's copy in DEADLETTERS goes with it.
        const copySeq = sequence?.head.deadLetterSeq;
        assert.ok(copySeq, 'a copy in DEADLETTERS');

        // A later message of the sequence cannot be redriven on its own.
        const parkedId = (await rows(durable))[1]!.id;
        await assert.rejects(running.sequences.redrive(parkedId), /waits behind the head/);

        failing.delete(paid.id);
        // Redriven from the other replica when there are two.
        const result = await running.replicas.at(-1)!.redrive(sequence!.head.id);
        assert.deepEqual(result, { applied: 2, remaining: 0 });
        assert.deepEqual(
          applied.filter((id) => id === paid.id || id === shipped.id),
          [paid.id, shipped.id],
          'in order, once each',
        );
        assert.deepEqual(await rows(durable), []);
        assert.equal(await readDeadLetter(await jetstreamManager(nc), { seq: copySeq }), undefined);
        // Idempotent: the head is gone.
        await assert.rejects(running.sequences.redrive(sequence!.head.id), /not found/);
        // The key flows again.
        const delivered = orderEvent('order.delivered', poisoned);
        await publish(delivered);
        await waitUntil(() => applied.includes(delivered.id), { timeoutMs: 5000, message: 'the key flows' });
      } finally {
        await running.stop();
      }
    });
  }

  it('releases the parked messages by itself when a retrying head succeeds on redelivery', async () => {
    const durable = 'recovers';
    const { applied, failing, handler } = world();
    // Retried for up to 10 s: it is still retrying when the fault is fixed.
    const running = await consumers(durable, handler, 1, { maxDeliver: 100, backoffMs: [100] });
    try {
      const orderId = uuidv7();
      const paid = orderEvent('order.paid', orderId);
      const shipped = orderEvent('order.shipped', orderId);
      failing.add(paid.id);
      // Both in one burst: the second is held back to a later round, then parked.
      await publish(paid, shipped);
      await waitUntil(async () => (await rows(durable)).some((r) => r.state === 'parked'), {
        timeoutMs: 5000,
        message: 'order.shipped parked behind a retrying order.paid',
      });
      assert.ok(!applied.includes(shipped.id));
      failing.delete(paid.id);
      await waitUntil(() => applied.includes(shipped.id), { timeoutMs: 10_000, message: 'released' });
      assert.deepEqual(
        applied.filter((id) => id === paid.id || id === shipped.id),
        [paid.id, shipped.id],
      );
      await waitUntil(async () => (await rows(durable)).length === 0, {
        timeoutMs: 5000,
        message: 'rows gone',
      });
    } finally {
      await running.stop();
    }
  });

  it('discard drops the dead head and applies what waited, in order', async () => {
    const durable = 'discards';
    const { applied, failing, handler } = world();
    const running = await consumers(durable, handler, 2);
    try {
      const orderId = uuidv7();
      const paid = orderEvent('order.paid', orderId);
      failing.add(paid.id);
      await publish(paid);
      await waitUntil(async () => (await rows(durable)).some((r) => r.state === 'dead'), {
        timeoutMs: 10_000,
        message: 'dead',
      });
      const shipped = orderEvent('order.shipped', orderId);
      const delivered = orderEvent('order.delivered', orderId);
      await publish(shipped, delivered);
      await waitUntil(async () => (await rows(durable)).length === 3, { timeoutMs: 5000, message: 'parked' });
      const [sequence] = (await running.sequences.list(undefined, 10)).items;
      assert.equal(sequence?.parkedBehind, 2);
      const shown = await running.sequences.show(sequence!.head.id, 10);
      assert.deepEqual(
        shown?.sequence.map((m) => m.eventId),
        [paid.id, shipped.id, delivered.id],
      );
      const result = await running.sequences.discard(sequence!.head.id);
      assert.deepEqual(result, { applied: 2, discarded: sequence!.head.id, remaining: 0 });
      assert.deepEqual(
        applied.filter((id) => [paid.id, shipped.id, delivered.id].includes(id)),
        [shipped.id, delivered.id],
      );
      await assert.rejects(running.sequences.discard(sequence!.head.id), /not found/);
    } finally {
      await running.stop();
    }
  });

  it('finishes a release cut short by a crash: parked messages left without a failing head are applied by the sweeper', async () => {
    const durable = 'sweeps';
    const { applied, handler } = world();
    const orderId = uuidv7();
    const shipped = orderEvent('order.shipped', orderId);
    const delivered = orderEvent('order.delivered', orderId);
    // What a replica killed between deleting a redriven head and applying the rest leaves behind.
    for (const [seq, event] of [
      [1_000_001, shipped],
      [1_000_002, delivered],
    ] as const) {
      await pool.query(
        `insert into parked_messages (consumer, sequence_key, state, stream, stream_sequence, subject, headers, payload)
         values ($1, $2, 'parked', 'ORDERS', $3, $4, $5, $6)`,
        [
          durable,
          `orderId:${orderId}`,
          seq,
          event.type,
          JSON.stringify(toHeaders(event)),
          Buffer.from(encodeData(event)),
        ],
      );
    }
    const running = await consumers(durable, handler, 1);
    try {
      await waitUntil(async () => (await rows(durable)).length === 0, { timeoutMs: 5000, message: 'swept' });
      assert.deepEqual(
        applied.filter((id) => id === shipped.id || id === delivered.id),
        [shipped.id, delivered.id],
      );
    } finally {
      await running.stop();
    }
  });

  /**
   * Two replicas of `durable` (ack wait 1 s) where one is stale: its first delivery of `late`
   * hangs (its Postgres blackholed) and, once healed, fails (the connection was cut). Meanwhile its
   * ack wait runs out and JetStream gives `late` to the other replica, whose handler is `handler`,
   * until `handled` holds; then the stale one heals and records its failure. Both keep running,
   * applying anything else with `handler`.
   */
  async function lateFailure(
    durable: string,
    late: CloudEvent,
    handler: BatchHandler,
    handled: () => boolean | Promise<boolean>,
  ) {
    const policy = { maxDeliver: 5, backoffMs: [20] };
    await ensureDurable(durable, policy, 1000);
    let heal!: () => void;
    const healed = new Promise<void>((resolve) => (heal = resolve));
    let stuck!: () => void;
    const inHand = new Promise<void>((resolve) => (stuck = resolve));
    const replicas: { consumer: PausableConsumer; sequences: SequencedDeadLetters }[] = [];
    const start = async (handle: BatchHandler) => {
      const started = await replica(durable, handle, policy);
      replicas.push(started);
      return started.consumer;
    };
    const stop = async () => {
      heal();
      for (const r of replicas) {
        await r.consumer.stop();
        await r.sequences.stop();
      }
    };
    try {
      // The durable starts at the stream's first message: the earlier tests' events come first.
      const stale = await start(async (batch) => {
        if (!batch.some(({ event, delivery }) => event.id === late.id && delivery.deliveryCount === 1))
          return handler(batch);
        stuck();
        await healed;
        const others = await handler(batch.filter(({ event }) => event.id !== late.id));
        return batch.map(({ event }) =>
          event.id === late.id
            ? { kind: 'retry', reason: 'Connection terminated unexpectedly' }
            : others.shift()!,
        );
      });
      await publish(late);
      await inHand;
      // It pulls nothing more; the pause completes once its batch in hand has ended.
      const pausing = stale.pause();
      await start(handler);
      await waitUntil(handled, { timeoutMs: 10_000, message: 'handled by the other replica' });
      heal();
      await pausing;
      await stale.resume();
    } catch (error) {
      await stop();
      throw error;
    }
    return { sequences: replicas[0]!.sequences, stop };
  }

  it('a replica that fails a message after its ack wait ran out, when another replica has handled it since, parks nothing behind it for good (found by the two-relay-leaders experiment)', async () => {
    const durable = 'late-failure';
    const { applied, handler } = world();
    const orderId = uuidv7();
    const paid = orderEvent('order.paid', orderId);
    const shipped = orderEvent('order.shipped', orderId);
    const running = await lateFailure(durable, paid, handler, () => applied.includes(paid.id));
    try {
      await publish(shipped);
      await waitUntil(() => applied.includes(shipped.id), {
        timeoutMs: 10_000,
        message: 'order.shipped applied',
      });
      await waitUntil(async () => (await rows(durable)).length === 0, {
        timeoutMs: 5000,
        message: 'nothing left parked',
      });
      assert.deepEqual(
        applied.filter((id) => id === paid.id || id === shipped.id),
        [paid.id, shipped.id],
      );
    } finally {
      await running.stop();
    }
  });

  it('a late failure of a message another replica has dead-lettered since leaves it dead, its key parked', async () => {
    const durable = 'late-failure-dead';
    const { applied, failing, handler } = world();
    const orderId = uuidv7();
    const paid = orderEvent('order.paid', orderId);
    const shipped = orderEvent('order.shipped', orderId);
    failing.add(paid.id);
    const running = await lateFailure(durable, paid, handler, async () =>
      (await rows(durable)).some((r) => r.subject === 'order.paid' && r.state === 'dead'),
    );
    try {
      // The stale replica's failure came last: it does not make the dead head retrying again.
      assert.deepEqual(
        (await rows(durable)).map((r) => [r.state, r.subject]),
        [['dead', 'order.paid']],
      );
      await publish(shipped);
      await waitUntil(async () => (await rows(durable)).length === 2, { timeoutMs: 5000, message: 'parked' });
      assert.ok(!applied.includes(shipped.id), 'order.shipped waits behind the dead order.paid');
      const [sequence] = (await running.sequences.list(undefined, 10)).items;
      failing.delete(paid.id);
      assert.deepEqual(await running.sequences.redrive(sequence!.head.id), { applied: 2, remaining: 0 });
      assert.deepEqual(
        applied.filter((id) => id === paid.id || id === shipped.id),
        [paid.id, shipped.id],
      );
    } finally {
      await running.stop();
    }
  });

  it('a metrics scrape does not wait on a Postgres that does not answer (found by the two-relay-leaders experiment)', async () => {
    const registry = new Registry();
    const silent = { query: () => new Promise(() => {}) } as unknown as pg.Pool;
    new SequencedDeadLetters({
      pool: silent,
      consumer: 'scraped',
      handler: async () => [],
      logger,
      maxDeliver: 1,
      backoffMs: [10],
      registry,
    });
    const began = performance.now();
    const text = await registry.metrics();
    assert.ok(performance.now() - began < 3000, 'answered within the 1 s bound');
    assert.match(text, /conveyor_parked_messages/);
    // With a Postgres that answers, the counts are there.
    const answering = new Registry();
    new SequencedDeadLetters({
      pool,
      consumer: 'discards',
      handler: async () => [],
      logger,
      maxDeliver: 1,
      backoffMs: [10],
      registry: answering,
    });
    assert.match(await answering.metrics(), /conveyor_parked_messages\{consumer="discards",state="dead"\} 0/);
  });

  it('a paused consumer applies nothing from its sequences: releases wait for the resume, redrive and discard are refused, other streams flow', async () => {
    const durable = 'paused';
    const { applied, failing, handler } = world();
    const jsm = await jetstreamManager(nc);
    const controls = new ConsumerControls({ pool, jsm, logger, pollMs: 100, manageTopology: true });
    // Production's wiring (notifications'): one set of sequences over USERS and ORDERS.
    const running = await startSequencedConsumers({
      pool,
      consumer: durable,
      handler,
      logger,
      maxDeliver: 3,
      backoffMs: [20],
      jsm,
      sweepMs: 100,
      streams: [Streams.users, Streams.orders],
      nc,
      controls,
      batchSize: 8,
      ackWaitMs: 5000,
    });
    controls.start();
    const orderId = uuidv7();
    const ofOrder = async () =>
      (await rows(durable))
        .filter((r) => r.sequence_key === `orderId:${orderId}`)
        .map((r) => [r.state, r.subject]);
    try {
      const paid = orderEvent('order.paid', orderId);
      failing.add(paid.id);
      await publish(paid);
      await waitUntil(async () => (await ofOrder()).length === 1 && (await ofOrder())[0]![0] === 'dead', {
        timeoutMs: 10_000,
        message: 'order.paid dead',
      });
      const shipped = orderEvent('order.shipped', orderId);
      await publish(shipped);
      await waitUntil(async () => (await ofOrder()).length === 2, { timeoutMs: 5000, message: 'parked' });
      const head = (await running.sequences.list(undefined, 100)).items.find(
        (s) => s.head.sequenceKey === `orderId:${orderId}`,
      )!.head;

      await controls.pause('ORDERS', durable, 'admin', 'carrier outage');
      const refusedWhilePaused = (error: unknown) =>
        error instanceof AppError &&
        error.code === 'FAILED_PRECONDITION' &&
        /ORDERS\/paused is paused \(carrier outage\): resume it/.test(error.message);
      await assert.rejects(running.sequences.redrive(head.id), refusedWhilePaused);
      await assert.rejects(running.sequences.discard(head.id), refusedWhilePaused);
      assert.deepEqual(await ofOrder(), [
        ['dead', 'order.paid'],
        ['parked', 'order.shipped'],
      ]);

      // The head is handled elsewhere (its DEADLETTERS copy redriven): its release waits for the
      // resume. A user's message left parked by a crash, on USERS (not paused), is swept meanwhile:
      // releases run one at a time, and a sweep takes orderId: keys before userId: ones.
      await running.sequences.copyRedriven({ stream: head.stream, streamSequence: head.streamSequence });
      const erased = newEvent(
        'user.erased',
        { userId: uuidv7(), erasedAt: new Date().toISOString() },
        { source: 'test', subject: 'user' },
      );
      await pool.query(
        `insert into parked_messages (consumer, sequence_key, state, stream, stream_sequence, subject, headers, payload)
         values ($1, $2, 'parked', 'USERS', 1000001, 'user.erased', $3, $4)`,
        [
          durable,
          `userId:${(erased.data as { userId: string }).userId}`,
          JSON.stringify(toHeaders(erased)),
          Buffer.from(encodeData(erased)),
        ],
      );
      await waitUntil(() => applied.includes(erased.id), { timeoutMs: 5000, message: 'USERS flows' });
      assert.ok(!applied.includes(shipped.id), 'order.shipped is not applied while ORDERS is paused');
      assert.deepEqual(await ofOrder(), [['parked', 'order.shipped']]);

      await controls.resume('ORDERS', durable, 'admin');
      await waitUntil(() => applied.includes(shipped.id), {
        timeoutMs: 5000,
        message: 'released once resumed',
      });
      await waitUntil(async () => (await ofOrder()).length === 0, { timeoutMs: 5000, message: 'rows gone' });
      assert.ok(!applied.includes(paid.id));
    } finally {
      await controls.stop();
      await running.stop();
    }
  });

  it('a message that fails decoding is dead under its own id and parks no order', async () => {
    const durable = 'forged';
    const { applied, handler } = world();
    const running = await consumers(durable, handler, 1);
    try {
      const victim = uuidv7();
      // Claims the victim's order but does not match order.paid's schema.
      const h = natsHeaders();
      const forged = orderEvent('order.paid', victim);
      for (const [k, v] of Object.entries(toHeaders(forged))) if (k !== 'Nats-Msg-Id') h.set(k, v);
      await jetstream(nc).publish(
        'order.paid',
        new TextEncoder().encode(JSON.stringify({ orderId: victim, userId, amount: 'all of it' })),
        { msgID: forged.id, headers: h },
      );
      await waitUntil(async () => (await rows(durable)).length === 1, { timeoutMs: 5000, message: 'dead' });
      const [sequence] = (await running.sequences.list(undefined, 10)).items;
      assert.match(sequence!.head.sequenceKey, /^message:ORDERS:\d+$/);
      assert.match(sequence!.head.reason, /does not match order.paid/);
      const shipped = orderEvent('order.shipped', victim);
      await publish(shipped);
      await waitUntil(() => applied.includes(shipped.id), { timeoutMs: 5000, message: 'the victim flows' });
    } finally {
      await running.stop();
    }
  });
});
