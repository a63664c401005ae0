import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from '@conveyor/stack';
import { testNats } from '@conveyor/stack/testing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { type CloudEvent, encodeData, newEvent, toHeaders } from './cloud-event.ts';
import { DeadLetterHeaders, readDeadLetter } from './dead-letters.ts';
import { type HandlingOutcome, type ReceivedEvent, startEventConsumer } from './event-consumer.ts';
import { ensureDurableConsumer, ensureStreams } from './topology.ts';

const logger = pino({ level: 'silent' });

function orderPaid(userId: string): CloudEvent {
  const orderId = uuidv7();
  return newEvent(
    'order.paid',
    { orderId, userId, amount: { amountMinor: 100, currency: 'EUR' }, paidAt: new Date().toISOString() },
    { source: 'test', subject: orderId },
  );
}

/** The batched event consumer against a real nats-server. */
describe('event consumer in batches (real NATS)', () => {
  let nats: Awaited<ReturnType<typeof testNats>>;
  let nc: NatsConnection;

  before(async () => {
    nats = await testNats();
    nc = await connect({ servers: nats.url });
    await ensureStreams(await jetstreamManager(nc));
  });
  after(async () => {
    await nc?.close();
    await nats?.stop();
  });

  async function publish(events: CloudEvent[]): Promise<void> {
    const js = jetstream(nc);
    // Published without awaiting each: they reach the consumer as a burst.
    await Promise.all(
      events.map((event) => {
        const h = natsHeaders();
        for (const [k, v] of Object.entries(toHeaders(event))) if (k !== 'Nats-Msg-Id') h.set(k, v);
        return js.publish(event.type, encodeData(event), { msgID: event.id, headers: h });
      }),
    );
  }

  async function consumer(
    durable: string,
    handle: (batch: readonly ReceivedEvent[]) => Promise<HandlingOutcome[]>,
  ) {
    await ensureDurableConsumer(await jetstreamManager(nc), {
      stream: 'ORDERS',
      durable,
      filterSubjects: ['order.>'],
      maxDeliver: 2,
      ackWaitMs: 5000,
      maxAckPending: 64,
    });
    return startEventConsumer({
      nc,
      stream: 'ORDERS',
      durable,
      handler: { batch: handle },
      logger,
      batchSize: 16,
      maxDeliver: 2,
      backoffMs: [50],
    });
  }

  it('hands a lone event over alone and a burst in batches, in stream order, one batch at a time', async () => {
    const seen: string[][] = [];
    let inFlight = 0;
    let overlapped = false;
    const running = await consumer('batches', async (batch) => {
      overlapped ||= ++inFlight > 1;
      seen.push(batch.map((b) => b.event.id));
      await new Promise((r) => setTimeout(r, 20)); // a handler's I/O: later messages gather meanwhile
      inFlight--;
      return batch.map(() => ({ kind: 'ack' }));
    });
    const lone = orderPaid(uuidv7());
    await publish([lone]);
    await waitUntil(() => seen.flat().includes(lone.id), { timeoutMs: 5000, message: 'the lone event' });
    assert.deepEqual(seen[0], [lone.id], 'a lone event is not held for company');
    const burst = Array.from({ length: 100 }, () => orderPaid(uuidv7()));
    await publish(burst);
    await waitUntil(() => seen.flat().length === 101, { timeoutMs: 10_000, message: 'the burst' });
    await running.stop();
    assert.equal(overlapped, false);
    assert.ok(Math.max(...seen.map((b) => b.length)) > 1, 'some batches held several events');
    assert.ok(Math.max(...seen.map((b) => b.length)) <= 16);
    const order = new Map(burst.map((e, i) => [e.id, i]));
    const handled = seen
      .flat()
      .slice(1)
      .map((id) => order.get(id)!);
    assert.deepEqual(
      handled,
      [...handled].sort((a, b) => a - b),
      'stream order',
    );
  });

  it('isolates a failing event: its batch-mates are acknowledged once, it alone is retried, then dead-lettered', async () => {
    const bad = orderPaid(uuidv7());
    const good = Array.from({ length: 30 }, () => orderPaid(uuidv7()));
    const mine = new Set(good.map((e) => e.id));
    const handledGood = new Map<string, number>();
    const triedBad: number[] = [];
    const running = await consumer('isolation', async (batch) => {
      // A handler that fails a whole transaction when the bad event is in it.
      if (batch.some((b) => b.event.id === bad.id)) {
        triedBad.push(batch.length);
        throw new Error('constraint violated by one event');
      }
      // (Events of the earlier test are in the stream too; this durable reads them all.)
      for (const b of batch)
        if (mine.has(b.event.id)) handledGood.set(b.event.id, (handledGood.get(b.event.id) ?? 0) + 1);
      return batch.map(() => ({ kind: 'ack' }));
    });
    await publish([...good.slice(0, 15), bad, ...good.slice(15)]);
    const jsm = await jetstreamManager(nc);
    await waitUntil(
      async () => (await readDeadLetter(jsm, { after: 0, subject: 'deadletter.isolation.>' })) !== undefined,
      { timeoutMs: 10_000, message: 'the bad event was not dead-lettered' },
    );
    await waitUntil(
      async () => {
        const info = await jsm.consumers.info('ORDERS', 'isolation');
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      { timeoutMs: 10_000, message: 'the consumer did not settle' },
    );
    await running.stop();
    assert.equal(handledGood.size, 30);
    assert.deepEqual([...new Set(handledGood.values())], [1], 'each good event handled once');
    assert.ok(triedBad.includes(1), 'the bad event was tried alone');
    const dead = await readDeadLetter(jsm, { after: 0, subject: 'deadletter.isolation.>' });
    assert.equal(dead?.headers.get('ce-id'), bad.id);
    assert.match(
      dead?.headers.get('Conveyor-Dead-Letter-Reason') ?? '',
      /failed after 2 attempts: constraint violated/,
    );
  });

  it('acts on each outcome of a batch: ack, retry later, dead letter', async () => {
    const [ok, again, poison] = [orderPaid(uuidv7()), orderPaid(uuidv7()), orderPaid(uuidv7())];
    const tries = new Map<string, number>();
    const running = await consumer('outcomes', async (batch) =>
      batch.map(({ event }): HandlingOutcome => {
        tries.set(event.id, (tries.get(event.id) ?? 0) + 1);
        if (event.id === poison.id) {
          return { kind: 'dead-letter', reason: 'poison: 550 <Ada.L@example.com>: mailbox refused' };
        }
        if (event.id === again.id && tries.get(event.id) === 1)
          return { kind: 'retry', reason: 'not yet', delayMs: 10 };
        return { kind: 'ack' };
      }),
    );
    await publish([ok, again, poison]);
    const jsm = await jetstreamManager(nc);
    await waitUntil(
      async () => {
        const info = await jsm.consumers.info('ORDERS', 'outcomes');
        return info.num_pending === 0 && info.num_ack_pending === 0 && tries.get(again.id) === 2;
      },
      { timeoutMs: 10_000, message: 'outcomes not applied' },
    );
    await running.stop();
    assert.deepEqual([tries.get(ok.id), tries.get(again.id), tries.get(poison.id)], [1, 2, 1]);
    const dead = await readDeadLetter(jsm, { after: 0, subject: 'deadletter.outcomes.>' });
    assert.equal(dead?.headers.get('ce-id'), poison.id);
    // Dead letters are kept for days, past any erasure: their reason names no address (issue 22).
    assert.equal(dead?.headers.get(DeadLetterHeaders.reason), 'poison: 550 <[address]>: mailbox refused');
  });
});
