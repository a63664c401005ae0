import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { catalog, dataSchemaUri, type EventDefinition, userCreatedV1 } from '@conveyor/contracts';
import { type CloudEvent, newEvent } from '@conveyor/platform';
import { waitUntil } from '@conveyor/stack';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import {
  type NotificationsHarness,
  orderPaid,
  plaintextUserCreated,
  settled,
  startHarness,
} from './testing/notifications-harness.ts';

/**
 * A newer producer publishes user.created v7 before this consumer knows it:
 * poison (unknown version) until the consumer is upgraded. The upgrade is
 * simulated by adding v7 to the in-process catalog, as a new release would.
 */
const userCreatedV7 = {
  ...userCreatedV1,
  retired: undefined,
  version: 7,
  schema: z.object({
    userId: z.uuid(),
    email: z.email(),
    name: z.string(),
    createdAt: z.string(),
    locale: z.string(),
  }),
  examples: [],
} as unknown as EventDefinition;

function userCreatedAsV7(email: string): CloudEvent {
  const event = plaintextUserCreated(email, 'Vera Two');
  return {
    ...event,
    dataschema: dataSchemaUri('user.created', 7),
    data: { ...(event.data as object), locale: 'en' },
  };
}

describe('dead letters: poison messages, redrive and purge (real Postgres, NATS, SMTP)', () => {
  let h: NotificationsHarness;

  before(async () => {
    h = await startHarness('notif_dlq');
  });
  after(() => h?.stop());

  const mailsTo = (email: string) => h.smtp.messages().filter((m) => m.to.includes(email));
  const list = (filter: { subject?: string; reasonContains?: string }, pageSize = 0, pageToken = '') =>
    h.call(h.client.listDeadLetters, {
      filter: { subject: filter.subject ?? '', reasonContains: filter.reasonContains ?? '' },
      pageSize,
      pageToken,
    });
  const redrive = (selection: { id?: string; subject?: string; reasonContains?: string; all?: boolean }) =>
    h.call(h.client.redriveDeadLetters, {
      selection: {
        id: selection.id ?? '',
        filter: { subject: selection.subject ?? '', reasonContains: selection.reasonContains ?? '' },
        all: selection.all ?? false,
      },
      limit: 0,
    });

  it('dead-letters a poison message on its first delivery, delivers the ones after it, and delivers it once when redriven after the fix', async (t) => {
    const poison = userCreatedAsV7('vera@example.com');
    await h.publish(poison);
    const after = await Promise.all(
      Array.from({ length: 5 }, (_, i) => h.userCreated(`after-${i}@example.com`)),
    );
    for (const event of after) await h.publish(event);

    await waitUntil(() => after.every((e, i) => mailsTo(`after-${i}@example.com`).length === 1 && e), {
      timeoutMs: 10_000,
      message: 'the messages after the poison one were not delivered',
    });
    let page = await list({ reasonContains: 'unknown event user.created v7' });
    assert.equal(page.deadLetters.length, 1);
    const first = page.deadLetters[0]!;
    assert.equal(first.deliveries, 1, 'dead-lettered within one delivery attempt');
    assert.equal(first.eventId, poison.id);
    assert.equal(first.originalSubject, 'user.created');
    assert.equal(first.originalStream, 'USERS');
    assert.match(first.reason, /^poison: unknown event user.created v7/);

    // Redriven before the fix: poison again, a new dead letter, still no mail.
    const early = await redrive({ id: first.id });
    assert.deepEqual(early.redriven, [first.id]);
    await waitUntil(
      async () => (await list({ reasonContains: 'v7' })).deadLetters.some((d) => d.id !== first.id),
      {
        timeoutMs: 10_000,
        message: 'the early redrive was not dead-lettered again',
      },
    );
    page = await list({ reasonContains: 'v7' });
    assert.equal(page.deadLetters.length, 1);
    const second = page.deadLetters[0]!;
    assert.equal(second.eventId, poison.id);
    assert.equal(mailsTo('vera@example.com').length, 0);

    // The fix: this consumer learns v7. Redrive twice at once, then once more.
    (catalog as unknown as EventDefinition[]).push(userCreatedV7);
    t.after(() => {
      (catalog as unknown as EventDefinition[]).pop();
    });
    const both = await Promise.allSettled([redrive({ id: second.id }), redrive({ id: second.id })]);
    assert.ok(both.some((r) => r.status === 'fulfilled'));
    await assert.rejects(redrive({ id: second.id }), /not found/);
    await mailsToArrive(h, 'vera@example.com');
    // Quiescent: a late duplicate would be counted below.
    await waitUntil(() => settled(h), { timeoutMs: 10_000, message: 'deliveries did not settle' });
    assert.equal(mailsTo('vera@example.com').length, 1);
    const { rows } = await h.sql.query('select count(*)::int as n from notifications where event_id = $1', [
      poison.id,
    ]);
    assert.equal(rows[0].n, 1);
    assert.equal((await list({ reasonContains: 'v7' })).deadLetters.length, 0);
  });

  it('lists with filters and pages, and purges by id, reason, subject or all, refusing an empty selection', async () => {
    const bad = (subject: 'user.created' | 'order.paid', marker: string): CloudEvent => {
      const event = plaintextUserCreated(`${marker}@example.com`, marker);
      return { ...event, type: subject, dataschema: dataSchemaUri(subject, 9) };
    };
    for (const marker of ['p1', 'p2', 'p3']) await h.publish(bad('user.created', marker));
    for (const marker of ['q1', 'q2']) await h.publish(bad('order.paid', marker));
    await waitUntil(async () => (await list({ reasonContains: 'v9' })).deadLetters.length === 5, {
      timeoutMs: 10_000,
      message: 'the five poison messages were not dead-lettered',
    });

    assert.equal((await list({ subject: 'order.paid' })).deadLetters.length, 2);
    const p1 = await list({ reasonContains: 'V9', subject: 'user.created' }, 2);
    assert.equal(p1.deadLetters.length, 2);
    const p2 = await list({ reasonContains: 'v9', subject: 'user.created' }, 2, p1.nextPageToken);
    assert.equal(p2.deadLetters.length, 1);
    assert.ok(Number(p2.deadLetters[0]!.id) > Number(p1.deadLetters[1]!.id));

    const purge = (selection: { id?: string; subject?: string; reasonContains?: string; all?: boolean }) =>
      h.call(h.client.purgeDeadLetters, {
        selection: {
          id: selection.id ?? '',
          filter: { subject: selection.subject ?? '', reasonContains: selection.reasonContains ?? '' },
          all: selection.all ?? false,
        },
      });
    await assert.rejects(purge({}), /selection: give an id, a filter, or all = true/);
    await assert.rejects(purge({ id: 'abc' }), /selection.id: "abc" is not a dead letter id/);
    await assert.rejects(purge({ subject: 'user.*' }), /selection.filter.subject/);
    assert.equal((await purge({ id: p1.deadLetters[0]!.id })).purged, 1);
    await assert.rejects(purge({ id: p1.deadLetters[0]!.id }), /not found/);
    assert.equal((await purge({ subject: 'order.paid' })).purged, 2);
    assert.equal((await purge({ reasonContains: 'does not name', subject: 'user.created' })).purged, 0);
    assert.equal((await purge({ all: true })).purged, 2);
    assert.equal((await list({})).deadLetters.length, 0);
  });

  it('purging a dead letter that heads a sequence drops it and releases what waited behind it, by id and by subject', async () => {
    // A user notifications has not heard of yet: its orders' order.paid are retried, then dead.
    const created = await h.userCreated('purged-heads@example.com');
    const userId = (created.data as { userId: string }).userId;
    const paid = [orderPaid(userId), orderPaid(userId)];
    for (const event of paid) await h.publish(event);
    const heads = async () => {
      const found = (await list({ subject: 'order.paid' })).deadLetters;
      return paid.map((p) => found.find((d) => d.eventId === p.id));
    };
    await waitUntil(async () => (await heads()).every(Boolean), {
      timeoutMs: 15_000,
      message: 'both order.paid dead-lettered',
    });
    // Now the user is known; each order's order.shipped is parked behind its dead order.paid.
    await h.publish(created);
    await waitUntil(
      async () =>
        ((await h.sql.query('select 1 from recipients where user_id = $1', [userId])).rowCount ?? 0) > 0,
      { timeoutMs: 10_000, message: 'user recorded' },
    );
    const shipped = paid.map((p) => {
      const { orderId } = p.data as { orderId: string };
      return newEvent(
        'order.shipped',
        { orderId, userId, carrier: 'DHL', trackingNumber: 'JD0147', shippedAt: new Date().toISOString() },
        { source: 'conveyor/orders', subject: orderId },
      );
    });
    for (const event of shipped) await h.publish(event);
    const sequenceOf = async (i: number) =>
      (
        await h.sql.query<{ state: string; subject: string }>(
          `select state, subject from parked_messages where sequence_key = $1 order by stream_sequence`,
          [`orderId:${(paid[i]!.data as { orderId: string }).orderId}`],
        )
      ).rows.map((r) => [r.state, r.subject]);
    for (const i of [0, 1]) {
      await waitUntil(async () => (await sequenceOf(i)).length === 2, {
        timeoutMs: 10_000,
        message: 'parked',
      });
      assert.deepEqual(await sequenceOf(i), [
        ['dead', 'order.paid'],
        ['parked', 'order.shipped'],
      ]);
    }
    const recorded = async (event: CloudEvent) =>
      ((await h.sql.query('select 1 from notifications where event_id = $1', [event.id])).rowCount ?? 0) > 0;
    const purge = (selection: { id?: string; subject?: string }) =>
      h.call(h.client.purgeDeadLetters, {
        selection: {
          id: selection.id ?? '',
          filter: { subject: selection.subject ?? '', reasonContains: '' },
          all: false,
        },
      });

    // By id: the head is dropped (never recorded) and order.shipped is recorded.
    assert.equal((await purge({ id: (await heads())[0]!.id })).purged, 1);
    await waitUntil(() => recorded(shipped[0]!), { timeoutMs: 10_000, message: 'order.shipped released' });
    await waitUntil(async () => (await sequenceOf(0)).length === 0, {
      timeoutMs: 5000,
      message: 'rows gone',
    });
    assert.equal(await recorded(paid[0]!), false, 'the purged order.paid is never recorded');
    assert.deepEqual(await sequenceOf(1), [
      ['dead', 'order.paid'],
      ['parked', 'order.shipped'],
    ]);

    // By subject (one stream purge): the same for every head it removed.
    assert.equal((await purge({ subject: 'order.paid' })).purged, 1);
    await waitUntil(() => recorded(shipped[1]!), { timeoutMs: 10_000, message: 'order.shipped released' });
    await waitUntil(async () => (await sequenceOf(1)).length === 0, {
      timeoutMs: 5000,
      message: 'rows gone',
    });
    assert.equal(await recorded(paid[1]!), false);
  });

  it('refuses to redrive a message while its consumer is paused on its stream, and redrives it once resumed', async () => {
    const poison: CloudEvent = { ...orderPaid(uuidv7()), dataschema: dataSchemaUri('order.paid', 8) };
    await h.publish(poison);
    const deadLetter = async () =>
      (await list({ subject: 'order.paid' })).deadLetters.find((d) => d.eventId === poison.id);
    await waitUntil(async () => (await deadLetter()) !== undefined, {
      timeoutMs: 10_000,
      message: 'dead-lettered',
    });
    const { id } = (await deadLetter())!;
    // What `conveyor consumers pause notifications/ORDERS/notifications` sets.
    await h.sql.query(
      `insert into consumer_controls (stream, durable, paused, reason) values ('ORDERS', 'notifications', true, 'mail outage')
       on conflict (stream, durable) do update set paused = true, reason = excluded.reason`,
    );
    try {
      await assert.rejects(
        redrive({ id }),
        /FAILED_PRECONDITION.*consumer ORDERS\/notifications is paused \(mail outage\): resume it to redrive/,
      );
      await assert.rejects(redrive({ subject: 'order.paid' }), /is paused/);
      assert.ok(await deadLetter(), 'kept');
    } finally {
      await h.sql.query(`update consumer_controls set paused = false where durable = 'notifications'`);
    }
    // Still poison: a new dead letter replaces it, once.
    assert.deepEqual((await redrive({ id })).redriven, [id]);
  });
});

async function mailsToArrive(h: NotificationsHarness, email: string): Promise<void> {
  await h.smtp.waitFor((m) => m.to.includes(email), { timeoutMs: 10_000 });
}
