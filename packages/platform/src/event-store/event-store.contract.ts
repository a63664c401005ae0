import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { v7 as uuidv7 } from 'uuid';
import { newEvent } from '../messaging/cloud-event.ts';
import { ConcurrencyConflict, type EventStore, type NewEvent } from './event-store.ts';

/**
 * The behaviour every EventStore must have. Run it against each
 * implementation (in memory, Postgres) so they can stand in for each other.
 * `outboxEventIds` reports what the implementation wrote to its outbox.
 */
export function eventStoreContract(
  name: string,
  setup: () => Promise<{
    store: EventStore;
    outboxEventIds: () => Promise<string[]>;
    /** The durable timers set and not cleared: key → due time. */
    timers: () => Promise<Map<string, Date>>;
    teardown: () => Promise<void>;
  }>,
): void {
  describe(`EventStore contract: ${name}`, () => {
    const newEvents = (n: number, type = 'Happened'): NewEvent[] =>
      Array.from({ length: n }, (_, i) => ({
        eventId: uuidv7(),
        type,
        data: { i, at: '2026-11-24T09:00:00.000Z' },
        metadata: { correlationId: 'c1' },
      }));
    const stream = () => `test-${uuidv7()}`;

    async function withStore(
      test: (
        store: EventStore,
        outboxEventIds: () => Promise<string[]>,
        timers: () => Promise<Map<string, Date>>,
      ) => Promise<void>,
    ) {
      const { store, outboxEventIds, timers, teardown } = await setup();
      try {
        await test(store, outboxEventIds, timers);
      } finally {
        await teardown();
      }
    }

    it('appends with gapless versions and reads them back in order', () =>
      withStore(async (store) => {
        const id = stream();
        const first = await store.appendToStream(id, newEvents(2), { expectedVersion: 0 });
        const second = await store.appendToStream(id, newEvents(1), { expectedVersion: 2 });
        assert.equal(first.kind, 'appended');
        assert.equal(second.kind, 'appended');
        const events = await store.readStream(id);
        assert.deepEqual(
          events.map((e) => e.version),
          [1, 2, 3],
        );
        assert.deepEqual(events[0]?.data, { i: 0, at: '2026-11-24T09:00:00.000Z' });
        assert.deepEqual(events[0]?.metadata, { correlationId: 'c1' });
        assert.ok(events[0]!.position < events[1]!.position && events[1]!.position < events[2]!.position);
        assert.deepEqual(
          (await store.readStream(id, { fromVersion: 2, toVersion: 2 })).map((e) => e.version),
          [2],
        );
      }));

    it('refuses a stale or future expected version and stores nothing', () =>
      withStore(async (store, outboxEventIds) => {
        const id = stream();
        await store.appendToStream(id, newEvents(1), { expectedVersion: 0 });
        const before = await outboxEventIds();
        for (const expectedVersion of [0, 2]) {
          const outbox = [
            newEvent(
              'user.erased',
              { userId: uuidv7(), erasedAt: new Date().toISOString() },
              { source: 't' },
            ),
          ];
          await assert.rejects(
            store.appendToStream(id, newEvents(1), { expectedVersion, outbox }),
            ConcurrencyConflict,
          );
        }
        assert.equal((await store.readStream(id)).length, 1);
        assert.deepEqual(await outboxEventIds(), before);
      }));

    it('lets exactly one of many racing appends at the same version win', () =>
      withStore(async (store) => {
        const id = stream();
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, () => store.appendToStream(id, newEvents(1), { expectedVersion: 0 })),
        );
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        for (const r of results)
          if (r.status === 'rejected') assert.ok(r.reason instanceof ConcurrencyConflict);
        assert.equal((await store.readStream(id)).length, 1);
      }));

    it('writes the outbox atomically with the events', () =>
      withStore(async (store, outboxEventIds) => {
        const outbox = [
          newEvent('user.erased', { userId: uuidv7(), erasedAt: new Date().toISOString() }, { source: 't' }),
        ];
        await store.appendToStream(stream(), newEvents(1), { expectedVersion: 0, outbox });
        assert.ok((await outboxEventIds()).includes(outbox[0]!.id));
      }));

    it('sets and clears timers only with the events they come with', () =>
      withStore(async (store, _outbox, timers) => {
        const [a, b, c] = [stream(), stream(), stream()];
        const due = new Date('2030-01-01T00:00:00.000Z');
        const timer = (s: string) => ({ key: `t-${s}`, kind: 'test.timer', dueAt: due, payload: { s } });
        await store.appendToStream(a, newEvents(1), { expectedVersion: 0, timers: { set: [timer(a)] } });
        // Racing new streams (grouped into one statement where the store groups them).
        await Promise.all(
          [b, c].map((s) =>
            store.appendToStream(s, newEvents(1), { expectedVersion: 0, timers: { set: [timer(s)] } }),
          ),
        );
        assert.deepEqual(
          [...(await timers()).entries()]
            .filter(([k]) => [a, b, c].some((s) => k === `t-${s}`))
            .map(([k, d]) => [k, d.getTime()])
            .sort(),
          [a, b, c].map((s) => [`t-${s}`, due.getTime()]).sort(),
        );
        // An append that loses (stale version, known idempotency key) changes no timer.
        await assert.rejects(
          store.appendToStream(a, newEvents(1), { expectedVersion: 0, timers: { clear: [`t-${a}`] } }),
          ConcurrencyConflict,
        );
        const key = { scope: 'timers', key: uuidv7() };
        await store.appendToStream(stream(), newEvents(1), { expectedVersion: 0, idempotency: key });
        const d = stream();
        await store.appendToStream(d, newEvents(1), {
          expectedVersion: 0,
          idempotency: key,
          timers: { set: [timer(d)] },
        });
        assert.ok((await timers()).has(`t-${a}`), 'a losing append cleared nothing');
        assert.ok(!(await timers()).has(`t-${d}`), 'a duplicate set nothing');
        // Setting a key again moves it; an append that clears it removes it.
        const later = new Date('2031-01-01T00:00:00.000Z');
        await store.appendToStream(b, newEvents(1), {
          expectedVersion: 1,
          timers: { set: [{ ...timer(b), dueAt: later }] },
        });
        assert.equal((await timers()).get(`t-${b}`)?.getTime(), later.getTime());
        await store.appendToStream(a, newEvents(1), { expectedVersion: 1, timers: { clear: [`t-${a}`] } });
        assert.ok(!(await timers()).has(`t-${a}`));
      }));

    it('claims an idempotency key once: a second append with it stores nothing and names the first stream', () =>
      withStore(async (store) => {
        const key = { scope: 'place', key: uuidv7() };
        const a = stream();
        const b = stream();
        assert.equal(
          (await store.appendToStream(a, newEvents(1), { expectedVersion: 0, idempotency: key })).kind,
          'appended',
        );
        assert.deepEqual(
          await store.appendToStream(b, newEvents(1), { expectedVersion: 0, idempotency: key }),
          {
            kind: 'duplicate',
            streamId: a,
          },
        );
        assert.equal((await store.readStream(b)).length, 0);
        assert.equal(await store.findIdempotencyClaim(key.scope, key.key), a);
      }));

    it('lets one of several racing appends claim a key; the others see the duplicate', () =>
      withStore(async (store) => {
        const key = { scope: 'place', key: uuidv7() };
        const streams = Array.from({ length: 6 }, stream);
        const results = await Promise.all(
          streams.map((s) => store.appendToStream(s, newEvents(1), { expectedVersion: 0, idempotency: key })),
        );
        const winners = results.filter((r) => r.kind === 'appended');
        assert.equal(winners.length, 1);
        const winner = streams[results.findIndex((r) => r.kind === 'appended')]!;
        for (const r of results) if (r.kind === 'duplicate') assert.equal(r.streamId, winner);
      }));

    it('reads all events after a position, in position order, and knows its head', () =>
      withStore(async (store) => {
        const head = await store.headPosition();
        const a = stream();
        const b = stream();
        await store.appendToStream(a, newEvents(2), { expectedVersion: 0 });
        await store.appendToStream(b, newEvents(1), { expectedVersion: 0 });
        const all = await store.readAll({ afterPosition: head, limit: 10 });
        assert.deepEqual(
          all.map((e) => [e.streamId, e.version]),
          [
            [a, 1],
            [a, 2],
            [b, 1],
          ],
        );
        assert.equal(await store.headPosition(), all.at(-1)!.position);
        assert.equal((await store.readAll({ afterPosition: head, limit: 2 })).length, 2);
      }));

    it('reads streams by prefix in (stream, version) order, up to a position, page by page', () =>
      withStore(async (store) => {
        // Ids sort the same under any collation: one prefix, then lowercase letters.
        const prefix = `bulk${uuidv7().replaceAll('-', '')}-`;
        const [a, b, c] = [`${prefix}a`, `${prefix}b`, `${prefix}c`];
        await store.appendToStream(c, newEvents(1), { expectedVersion: 0 });
        await store.appendToStream(a, newEvents(2), { expectedVersion: 0 });
        await store.appendToStream(`other-${uuidv7()}`, newEvents(1), { expectedVersion: 0 });
        await store.appendToStream(b, newEvents(1), { expectedVersion: 0 });
        const upTo = await store.headPosition();
        await store.appendToStream(a, newEvents(1), { expectedVersion: 2 }); // after maxPosition
        const read = async (after: { streamId: string; version: number } | undefined, limit: number) =>
          (await store.readByStream({ prefix, after, maxPosition: upTo, limit })).map(
            (e) => [e.streamId, e.version] as const,
          );
        assert.deepEqual(await read(undefined, 10), [
          [a, 1],
          [a, 2],
          [b, 1],
          [c, 1],
        ]);
        // Pages continue from the last (stream, version) read, also within a stream.
        assert.deepEqual(await read(undefined, 1), [[a, 1]]);
        assert.deepEqual(await read({ streamId: a, version: 1 }, 2), [
          [a, 2],
          [b, 1],
        ]);
        assert.deepEqual(await read({ streamId: b, version: 1 }, 10), [[c, 1]]);
        // LIKE's wildcards in a prefix are plain characters.
        assert.deepEqual(
          await store.readByStream({ prefix: 'bulk%', after: undefined, maxPosition: upTo, limit: 10 }),
          [],
        );
      }));

    it('keeps the newest snapshot', () =>
      withStore(async (store) => {
        const id = stream();
        assert.equal(await store.loadSnapshot(id), undefined);
        await store.saveSnapshot({ streamId: id, version: 5, state: { n: 5 } });
        await store.saveSnapshot({ streamId: id, version: 3, state: { n: 3 } });
        assert.deepEqual(await store.loadSnapshot(id), { streamId: id, version: 5, state: { n: 5 } });
      }));
  });
}
