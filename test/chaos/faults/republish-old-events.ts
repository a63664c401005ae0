import { Durables, Streams } from '@conveyor/contracts';
import { waitUntil } from '@conveyor/stack';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { ChaosSystem } from '../chaos-system.ts';
import type { Experiment, ExperimentChecks } from '../experiments.ts';
import { apiClient, callAs, countOf, signInChaosAdmin, withDatabase } from './chaos-clients.ts';

const republished = [
  {
    service: 'orders',
    stream: Streams.orders.name,
    consumers: [Durables.notifications, Durables.ordersProjections],
  },
  { service: 'users', stream: Streams.users.name, consumers: [Durables.notifications] },
] as const;

/**
 * A redelivery JetStream cannot drop: every stored event of orders and users published again, by
 * an admin's RepublishEvents from position 1 to the head, under load, with the streams' duplicate
 * window cut to 1 s for the while (as if the events were older than its 2 minutes, whatever the
 * run's age). The copies keep their event ids, so they reach the consumers; their inboxes (and
 * the projection's version guards) must absorb them: no mail again, no row changed.
 */
export const republishOldEvents: Experiment = {
  name: 'republish-old-events',
  fault:
    "an admin republishes every event of orders and users (RepublishEvents 1..head) under load, past JetStream's duplicate window (cut to 1 s meanwhile)",
  async run(system, note) {
    const admin = await signInChaosAdmin(system);
    const nc = await connect({ ...system.natsOptions('admin'), timeout: 5000 });
    const problems: string[] = [];
    const details: string[] = [];
    try {
      const jsm = await jetstreamManager(nc);
      const windows = new Map<string, number>();
      for (const { stream } of republished) {
        windows.set(stream, (await jsm.streams.info(stream)).config.duplicate_window);
        await jsm.streams.update(stream, { duplicate_window: nanos(1000) });
      }
      const mailsBefore = system.smtp.messages();
      const mailedBefore = new Set(mailsBefore.map((m) => m.messageId));
      try {
        for (const { service, stream } of republished) {
          const client = apiClient(system, service);
          try {
            const before = (await jsm.streams.info(stream)).state.last_seq;
            const { queued } = await callAs<{ queued: unknown }>(
              admin,
              client,
              'RepublishEvents',
              { from_position: 1, to_position: 0 },
              60_000,
            );
            const copies = await published(system, service, jsm, stream, before);
            details.push(
              `${service}: ${String(queued)} events queued again, ${stream} grew by ${copies} meanwhile`,
            );
            note(details.at(-1)!);
          } finally {
            client.close();
          }
        }
      } finally {
        for (const [stream, window] of windows)
          await jsm.streams.update(stream, { duplicate_window: window });
      }
      await consumersCaughtUp(jsm).catch((error: Error) => problems.push(error.message));
      const again = system.smtp
        .messages()
        .slice(mailsBefore.length)
        .filter((m) => mailedBefore.has(m.messageId)).length;
      if (again > 0) problems.push(`${again} mail(s) sent again for republished events`);
      return { problems, details } satisfies ExperimentChecks;
    } finally {
      await nc.close();
    }
  },
};

/** Waits until the relay has published every row queued so far; answers how much the stream grew. */
async function published(
  system: ChaosSystem,
  service: 'orders' | 'users',
  jsm: JetStreamManager,
  stream: string,
  before: number,
): Promise<number> {
  await withDatabase(system, async (sql) => {
    const head = await countOf(sql, `select coalesce(max(position), 0) as n from ${service}.outbox`);
    await waitUntil(
      async () =>
        (await countOf(sql, `select count(*) as n from ${service}.outbox where position <= $1`, [head])) ===
        0,
      { timeoutMs: 60_000, intervalMs: 200, message: `${service}'s relay did not publish the copies` },
    );
  });
  return (await jsm.streams.info(stream)).state.last_seq - before;
}

/** Every consumer has acknowledged everything its stream held once the copies were in. */
async function consumersCaughtUp(jsm: JetStreamManager): Promise<void> {
  for (const { stream, consumers } of republished) {
    const last = (await jsm.streams.info(stream)).state.last_seq;
    for (const consumer of consumers) {
      await waitUntil(async () => (await jsm.consumers.info(stream, consumer)).ack_floor.stream_seq >= last, {
        timeoutMs: 60_000,
        intervalMs: 250,
        message: `${consumer} did not handle the copies on ${stream}`,
      });
    }
  }
}
