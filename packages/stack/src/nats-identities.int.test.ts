import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Durables, type NatsIdentity, Streams } from '@conveyor/contracts';
import {
  createLogger,
  ensureDurableConsumer,
  ensureStreamsAsAdmin,
  prepareStreams,
} from '@conveyor/platform';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { generateNatsSeeds, type NatsSeeds, natsConnectOptions } from './nats-identities.ts';
import { type TestNats, testNats } from './throwaway.ts';

const silent = createLogger({ service: 'test', level: 'silent' });
const data = new TextEncoder().encode('{}');

describe('NATS identities: each service publishes and consumes only its own (ADR 0025)', () => {
  let nats: TestNats;
  let seeds: NatsSeeds;
  const open: NatsConnection[] = [];
  const as = async (identity: NatsIdentity) => {
    const nc = await connect({ ...natsConnectOptions(nats.url, seeds, identity), timeout: 3000 });
    open.push(nc);
    return nc;
  };
  /** A JetStream publish as `identity`: the PubAck's stream, or the refusal. */
  const publish = async (identity: NatsIdentity, subject: string) => {
    const js = jetstream(await as(identity), { timeout: 2000 });
    return js.publish(subject, data).then(
      (ack) => `stored in ${ack.stream}`,
      (error: Error) => `refused: ${error.message}`,
    );
  };

  before(async () => {
    seeds = generateNatsSeeds();
    nats = await testNats({ seeds });
    const config = { NATS_URL: nats.url, NATS_STREAM_REPLICAS: 1, NATS_ADMIN_NKEY_SEED: seeds.admin };
    await ensureStreamsAsAdmin(config, silent);
  });
  after(async () => {
    await Promise.all(open.map((nc) => nc.close()));
    await nats?.stop();
  });

  it('admits no one without an identity, and no unknown nkey', async () => {
    await assert.rejects(connect({ servers: nats.url, timeout: 3000 }), /authorization|auth/i);
    const stranger = generateNatsSeeds();
    await assert.rejects(
      connect({ ...natsConnectOptions(nats.url, stranger, 'users'), timeout: 3000 }),
      /authorization|auth/i,
    );
  });

  it("lets each service publish its own events and refuses another service's subject", async () => {
    assert.equal(await publish('users', 'user.created'), 'stored in USERS');
    assert.equal(await publish('orders', 'order.paid'), 'stored in ORDERS');
    assert.match(await publish('orders', 'user.created'), /^refused: .*permission/i);
    assert.match(await publish('notifications', 'order.paid'), /^refused: .*permission/i);
    assert.match(await publish('users', 'order.created'), /^refused: .*permission/i);
    assert.match(await publish('gateway', 'user.erased'), /^refused: .*permission/i);
    // A dead letter only under its own consumer's name.
    assert.equal(
      await publish('notifications', `deadletter.${Durables.notifications}.order.paid`),
      'stored in DEADLETTERS',
    );
    assert.match(
      await publish('notifications', `deadletter.${Durables.ordersProjections}.order.paid`),
      /^refused: .*permission/i,
    );
  });

  it('keeps stream administration to the admin identity', async () => {
    const orders = await jetstreamManager(await as('orders'), { timeout: 2000 });
    await assert.rejects(orders.streams.purge(Streams.users.name), /permission|timeout/i);
    await assert.rejects(orders.streams.delete(Streams.orders.name), /permission|timeout/i);
    assert.equal((await orders.streams.info(Streams.orders.name)).config.name, 'ORDERS');
    const admin = await jetstreamManager(await as('admin'), { timeout: 2000 });
    assert.equal((await admin.streams.purge(Streams.deadLetters.name)).success, true);
  });

  it("lets a service create and pull its own durable consumer, never another's", async () => {
    const consumer = {
      stream: Streams.orders.name,
      filterSubjects: [...Streams.orders.subjects],
      maxDeliver: 3,
      ackWaitMs: 5000,
      maxAckPending: 10,
    };
    const ordersJsm = await jetstreamManager(await as('orders'), { timeout: 2000 });
    await ensureDurableConsumer(ordersJsm, { ...consumer, durable: Durables.ordersProjections });
    await assert.rejects(
      ensureDurableConsumer(ordersJsm, { ...consumer, durable: Durables.notifications }),
      /permission|timeout/i,
    );
    const messages = await jetstream(await as('orders'))
      .consumers.get(Streams.orders.name, Durables.ordersProjections)
      .then((c) => c.next({ expires: 1000 }));
    assert.equal(messages?.subject, 'order.paid', 'orders pulls its own durable');
    messages?.ack();
    await assert.rejects(
      jetstream(await as('users'), { timeout: 2000 }).consumers.get(
        Streams.orders.name,
        Durables.ordersProjections,
      ),
      /permission|timeout/i,
    );
  });

  it('refuses to subscribe to events outside a JetStream consumer, or to another identity’s replies', async () => {
    const nc = await as('notifications');
    const errors: string[] = [];
    void (async () => {
      for await (const status of nc.status()) if (status.type === 'error') errors.push(String(status.error));
    })();
    const sub = nc.subscribe('user.>');
    const inbox = nc.subscribe('_INBOX_users.>');
    await nc.flush();
    const deadline = Date.now() + 3000;
    while (errors.length < 2 && Date.now() < deadline) await nc.flush();
    assert.ok(sub.isClosed() || errors.some((e) => /user\.>/.test(e)), `no refusal for user.>: ${errors}`);
    assert.ok(
      inbox.isClosed() || errors.some((e) => /_INBOX_users/.test(e)),
      `no refusal for _INBOX_users: ${errors}`,
    );
  });

  it('has a service with an identity and no admin seed only check the streams, naming the missing ones', async () => {
    const bare = await testNats({ seeds });
    try {
      const nc = await connect({ ...natsConnectOptions(bare.url, seeds, 'orders'), timeout: 3000 });
      try {
        const jsm = await jetstreamManager(nc, { timeout: 2000 });
        const config = { NATS_URL: bare.url, NATS_STREAM_REPLICAS: 1, NATS_NKEY_SEED: seeds.orders };
        await assert.rejects(
          prepareStreams(jsm, config, silent),
          /NATS stream\(s\) USERS, ORDERS, DEADLETTERS missing: they are created by the admin identity/,
        );
        assert.equal(
          await prepareStreams(jsm, { ...config, NATS_ADMIN_NKEY_SEED: seeds.admin }, silent),
          'created',
        );
        assert.equal(await prepareStreams(jsm, config, silent), 'checked');
      } finally {
        await nc.close();
      }
    } finally {
      await bare.stop();
    }
  });
});
