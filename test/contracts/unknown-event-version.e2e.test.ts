import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dataSchemaUri, findEventDefinition } from '@conveyor/contracts';
import { type System, startSystem, waitUntil } from '@conveyor/stack';
import { signUp } from '@conveyor/stack/testing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { v7 as uuidv7 } from 'uuid';

interface DeadLetter {
  consumer: string;
  ceId: string;
  reason: string;
  deliveries: string;
}

// Consumers pick the schema by ce-type + the version in ce-dataschema; a version not in the
// catalog (a producer ahead of this build) can never be read: dead-lettered at once with a reason.
describe('consumers dead-letter events of an unknown version (orders projections, notifications)', () => {
  let system: System;
  let nc: NatsConnection;

  before(async () => {
    system = await startSystem({
      name: 'contracts_unknown_version',
      services: ['users', 'orders', 'notifications'],
      env: { all: { DATABASE_POOL_SIZE: '3' }, notifications: { CONSUMER_BACKOFF_MS: '200' } },
    });
    nc = await connect(system.natsOptions());
  });

  after(async () => {
    await nc?.close();
    await system?.stop();
  });

  async function publish(type: string, version: number, data: unknown): Promise<string> {
    const id = uuidv7();
    const h = natsHeaders();
    for (const [k, v] of Object.entries({
      'Nats-Msg-Id': id,
      'ce-specversion': '1.0',
      'ce-id': id,
      'ce-type': type,
      'ce-source': 'conveyor/test',
      'ce-time': new Date().toISOString(),
      'ce-dataschema': dataSchemaUri(type, version),
      'content-type': 'application/json',
    }))
      h.set(k, v);
    await jetstream(nc).publish(type, JSON.stringify(data), { headers: h });
    return id;
  }

  async function deadLetters(): Promise<DeadLetter[]> {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info('DEADLETTERS');
    const out: DeadLetter[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage('DEADLETTERS', { seq });
      if (!m) continue;
      out.push({
        consumer: m.header.get('Conveyor-Dead-Letter-Consumer'),
        ceId: m.header.get('ce-id'),
        reason: m.header.get('Conveyor-Dead-Letter-Reason'),
        deliveries: m.header.get('Conveyor-Deliveries'),
      });
    }
    return out;
  }

  it('order.created v99 and user.created v99 go to DEADLETTERS on the first delivery, naming the version', async () => {
    // Valid v1 data under a v99 label: only the version is wrong.
    const order = await publish('order.created', 99, findEventDefinition('order.created', 1)!.examples[0]);
    const user = await publish('user.created', 99, findEventDefinition('user.created', 1)!.examples[0]);
    const wanted = [
      { consumer: 'orders-projections', ceId: order, type: 'order.created' },
      { consumer: 'notifications', ceId: order, type: 'order.created' },
      { consumer: 'notifications', ceId: user, type: 'user.created' },
    ];
    let letters: DeadLetter[] = [];
    await waitUntil(
      async () => {
        letters = await deadLetters();
        return wanted.every((w) => letters.some((l) => l.consumer === w.consumer && l.ceId === w.ceId));
      },
      { timeoutMs: 20_000, intervalMs: 200, message: 'unknown-version events were not dead-lettered' },
    );
    for (const w of wanted) {
      const letter = letters.find((l) => l.consumer === w.consumer && l.ceId === w.ceId)!;
      assert.equal(letter.reason, `poison: unknown event ${w.type} v99`);
      assert.equal(letter.deliveries, '1', 'never retried');
    }
    // The projection did not invent an order from it.
    assert.equal(letters.filter((l) => l.ceId === order).length, 2);
  });

  it('keeps handling known versions after the unknown ones', async () => {
    const before = (await deadLetters()).length;
    // users publishes user.created v2 (v1 is retired): the welcome mail follows the unknown ones.
    await signUp(system.address('users'), { email: 'known-version@example.com', name: 'Known Version' });
    await system.smtp.waitFor((m) => m.to.includes('known-version@example.com'), { timeoutMs: 20_000 });
    assert.equal((await deadLetters()).length, before);
  });
});
