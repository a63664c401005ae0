import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testNats } from '@conveyor/stack/testing';
import { type JetStreamManager, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import type { NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { connectNats } from './nats.ts';
import {
  type DurableConsumerOptions,
  durableConsumerConfig,
  ensureDurableConsumer,
  ensureStreams,
  prepareStreams,
  streamConfigs,
  TopologyMismatch,
} from './topology.ts';

const logger = pino({ level: 'silent' });
const hour = 3_600_000;

/**
 * Issue 27: with NATS_MANAGE_TOPOLOGY=false the streams and consumers are infrastructure (NACK
 * resources, an operator's `nats` commands): a service creates and changes nothing, and refuses to
 * start naming every stream or consumer that is missing or differs, and how.
 */
describe('streams and consumers managed as infrastructure (real NATS)', () => {
  let nats: Awaited<ReturnType<typeof testNats>>;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const unmanaged = { NATS_URL: '', NATS_STREAM_REPLICAS: 1, NATS_MANAGE_TOPOLOGY: false };
  const projections: DurableConsumerOptions = {
    stream: 'ORDERS',
    durable: 'orders-projections',
    filterSubjects: ['order.>'],
    maxDeliver: 20,
    ackWaitMs: 30_000,
    maxAckPending: 64,
    manage: false,
  };

  before(async () => {
    nats = await testNats();
    nc = await connectNats({ url: nats.url, name: 'topology-test', logger });
    jsm = await jetstreamManager(nc);
  });

  after(async () => {
    await nc?.close();
    await nats?.stop();
  });

  const refusal = async (check: () => Promise<unknown>): Promise<TopologyMismatch> => {
    try {
      await check();
    } catch (error) {
      assert.ok(error instanceof TopologyMismatch, `expected a TopologyMismatch, got ${String(error)}`);
      return error;
    }
    assert.fail('expected the check to refuse');
  };
  const streamNames = async () => (await jsm.streams.names().next()).sort();

  it('names every missing stream and creates none', async () => {
    const error = await refusal(() => prepareStreams(jsm, unmanaged, logger));
    assert.deepEqual(error.differences, [
      'stream USERS is missing (subjects user.>)',
      'stream ORDERS is missing (subjects order.>)',
      'stream DEADLETTERS is missing (subjects deadletter.>)',
    ]);
    assert.match(error.message, /NATS_MANAGE_TOPOLOGY=false/);
    assert.deepEqual(await streamNames(), []);
  });

  it('names each setting that differs, with what it needs, and changes nothing', async () => {
    const [users, orders, deadLetters] = streamConfigs();
    // As an operator might have made them: ORDERS in memory for a day, USERS with a 10 s window.
    await jsm.streams.add({ ...users!, duplicate_window: nanos(10_000) });
    await jsm.streams.add({ ...orders!, storage: StorageType.Memory, max_age: nanos(24 * hour) });
    await jsm.streams.add({ ...deadLetters!, max_bytes: 1 << 20 });
    const error = await refusal(() => prepareStreams(jsm, unmanaged, logger));
    assert.deepEqual(error.differences, [
      'stream USERS: duplicate_window is 10s, needs at least 2m',
      'stream ORDERS: storage is memory, needs file',
      'stream ORDERS: max_age is 1d, needs at least 30d',
    ]);
    // A smaller size limit is the operator's choice, and nothing was "fixed" behind their back.
    assert.equal((await jsm.streams.info('ORDERS')).config.storage, StorageType.Memory);
    assert.equal((await jsm.streams.info('DEADLETTERS')).config.max_bytes, 1 << 20);
  });

  it('accepts streams that match, and longer ages or windows, without touching them', async () => {
    for (const name of await streamNames()) await jsm.streams.delete(name);
    await ensureStreams(jsm);
    const orders = (await jsm.streams.info('ORDERS')).config;
    await jsm.streams.update('ORDERS', { ...orders, max_age: nanos(60 * 24 * hour), max_bytes: 1 << 25 });
    assert.equal(await prepareStreams(jsm, unmanaged, logger), 'checked');
    assert.equal((await jsm.streams.info('ORDERS')).config.max_bytes, 1 << 25, 'left as the operator set it');
  });

  it('names a missing or different durable consumer, creates none, and accepts a matching one', async () => {
    const missing = await refusal(() => ensureDurableConsumer(jsm, projections));
    assert.deepEqual(missing.differences, ['consumer ORDERS/orders-projections is missing']);
    assert.equal((await jsm.consumers.list('ORDERS').next()).length, 0);

    await jsm.consumers.add('ORDERS', {
      ...durableConsumerConfig(projections),
      max_deliver: 5,
      ack_wait: nanos(5000),
      max_ack_pending: 10,
    });
    const different = await refusal(() => ensureDurableConsumer(jsm, projections));
    assert.deepEqual(different.differences, [
      'consumer ORDERS/orders-projections: max_deliver is 5, needs 20',
      'consumer ORDERS/orders-projections: ack_wait is 5s, needs 30s',
      'consumer ORDERS/orders-projections: max_ack_pending is 10, needs at least 64',
    ]);
    assert.equal((await jsm.consumers.info('ORDERS', 'orders-projections')).config.max_deliver, 5);

    await jsm.consumers.delete('ORDERS', 'orders-projections');
    await jsm.consumers.add('ORDERS', durableConsumerConfig(projections));
    await ensureDurableConsumer(jsm, projections);
  });
});
