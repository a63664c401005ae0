import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type CloudEvent,
  ConsumerControls,
  createLogger,
  DeadLetterHeaders,
  encodeData,
  ensureStreams,
  manager,
  type RunningConsumer,
  type StoredEvent,
  toHeaders,
} from '@conveyor/platform';
import { waitUntil } from '@conveyor/stack';
import { testNats } from '@conveyor/stack/testing';
import { jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { v7 as uuidv7 } from 'uuid';
import { decodeOrderEvent, toIntegrationEvent } from '../app/order-event-mapping.ts';
import { projectOrderEvents } from '../app/project-order-event.ts';
import { lifecycle, type OrdersDb, ordersDb } from '../testing/order-streams.ts';
import { projectionsDurable, startProjectionConsumer } from './projection-consumer.ts';

describe('projection consumer (real NATS and Postgres)', () => {
  let t: OrdersDb;
  let nats: Awaited<ReturnType<typeof testNats>>;
  let nc: NatsConnection;
  let consumer: RunningConsumer;
  const userId = uuidv7();

  before(async () => {
    t = await ordersDb('order_projection_consumer');
    nats = await testNats();
    nc = await connect({ servers: nats.url });
    const jsm = await manager(nc);
    await ensureStreams(jsm);
    const logger = createLogger({ service: 'orders-test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });
    consumer = await startProjectionConsumer({
      nc,
      jsm,
      pool: t.pool,
      logger,
      controls: new ConsumerControls({ pool: t.pool, jsm, logger, pollMs: 1000, manageTopology: true }),
      project: projectOrderEvents({ table: t.readModels, store: t.store }),
      batchSize: 8,
      maxDeliver: 3,
      backoffMs: [100],
      ackWaitMs: 5000,
    });
  });

  after(async () => {
    await consumer?.stop();
    await nc?.close();
    await nats?.stop();
    await t?.close();
  });

  const integration = (orderId: string, e: StoredEvent, version: number | undefined = e.version) =>
    toIntegrationEvent(decodeOrderEvent(e), { eventId: e.eventId, orderId, userId, version: version ?? 0 });

  /** Publishes like the relay; a distinct `msgId` gets past JetStream's dedupe, as a re-publish would. */
  async function publish(event: CloudEvent, msgId = event.id) {
    const h = natsHeaders();
    for (const [k, v] of Object.entries(toHeaders(event))) if (k !== 'Nats-Msg-Id') h.set(k, v);
    await jetstream(nc).publish(event.type, encodeData(event), { msgID: msgId, headers: h });
  }

  it('projects events delivered out of order and more than once', async () => {
    const orderId = uuidv7();
    const stored: StoredEvent[] = [];
    for (const c of lifecycle(orderId, userId, 3)) stored.push(...(await t.append(orderId, c)));
    const events = stored.map((e) => integration(orderId, e));
    for (const i of [3, 1, 0, 2, 1]) await publish(events[i]!, `${events[i]!.id}-${Math.random()}`);
    await waitUntil(async () => (await t.readModels.getOrder(orderId))?.version === 4, {
      timeoutMs: 5000,
      message: 'order not projected to version 4',
    });
    assert.equal((await t.readModels.getOrder(orderId))?.status, 'delivered');
  });

  it('dead-letters an order event without a stream version', async () => {
    const orderId = uuidv7();
    const [placed] = await t.append(orderId, lifecycle(orderId, userId, 0)[0]!);
    const event = { ...integration(orderId, placed!), streamversion: undefined };
    await publish(event);
    const jsm = await manager(nc);
    const subject = `deadletter.${projectionsDurable}.order.created`;
    await waitUntil(
      async () =>
        (await jsm.streams.getMessage('DEADLETTERS', { last_by_subj: subject }).catch(() => null)) !== null,
      { timeoutMs: 5000, message: 'no dead letter' },
    );
    const dead = await jsm.streams.getMessage('DEADLETTERS', { last_by_subj: subject });
    assert.match(dead!.header.get(DeadLetterHeaders.reason), /^poison: .*no valid streamversion/);
    assert.equal(await t.readModels.getOrder(orderId), undefined);
  });
});
