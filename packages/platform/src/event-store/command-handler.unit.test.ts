import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCommandHandler } from './command-handler.ts';
import { ConcurrencyConflict, type EventStore } from './event-store.ts';
import { InMemoryEventStore } from './in-memory-event-store.ts';

/** A counter: `add n` appends one event unless it would pass 3. */
const decider = {
  initialState: () => 0,
  evolve: (state: number, event: { n: number }) => state + event.n,
  decide: (command: { add: number }, state: number) => {
    if (state + command.add > 3) throw new Error(`would reach ${state + command.add}`);
    return [{ n: command.add }];
  },
};
const codec = {
  encode: (e: { n: number }) => ({ type: 'Added', data: e }),
  decode: (s: { data: unknown }) => s.data as { n: number },
};
let ids = 0;
/** The store with some methods replaced (the in-memory store's private fields rule out Object.create). */
function wrap(store: InMemoryEventStore, overrides: Partial<EventStore>): EventStore {
  return {
    appendToStream: (...a) => store.appendToStream(...a),
    readStream: (...a) => store.readStream(...a),
    readAll: (...a) => store.readAll(...a),
    readByStream: (...a) => store.readByStream(...a),
    findIdempotencyClaim: (...a) => store.findIdempotencyClaim(...a),
    loadSnapshot: (...a) => store.loadSnapshot(...a),
    saveSnapshot: (...a) => store.saveSnapshot(...a),
    headPosition: () => store.headPosition(),
    ...overrides,
  };
}
const handler = (store: EventStore, maxAttempts = 3) =>
  createCommandHandler({
    store,
    decider,
    codec,
    newEventId: () => `00000000-0000-7000-8000-${String(++ids).padStart(12, '0')}`,
    maxAttempts,
  });

describe('command loop', () => {
  it('folds the stream, decides and appends at the loaded version', async () => {
    const store = new InMemoryEventStore();
    const handle = handler(store);
    await handle('c-1', { add: 1 });
    const result = await handle('c-1', { add: 2 });
    assert.equal(result.kind === 'applied' && result.state, 3);
    assert.deepEqual(
      (await store.readStream('c-1')).map((e) => e.version),
      [1, 2],
    );
    await assert.rejects(handle('c-1', { add: 1 }), /would reach 4/);
  });

  it('with newStream skips the first read, and still decides on the real state when the stream exists', async () => {
    const store = new InMemoryEventStore();
    const handle = handler(store);
    let reads = 0;
    const counting = wrap(store, {
      readStream: (...args) => {
        reads++;
        return store.readStream(...args);
      },
    });
    const viaCounting = handler(counting);
    await viaCounting('c-2', { add: 1 }, { metadata: {}, newStream: true });
    assert.equal(reads, 0);
    await handle('c-3', { add: 3 });
    await assert.rejects(viaCounting('c-3', { add: 1 }, { metadata: {}, newStream: true }), /would reach 4/);
    assert.equal(reads, 1);
  });

  it('reloads after a lost race and gives up with ABORTED after maxAttempts', async () => {
    const store = new InMemoryEventStore();
    let conflicts = 0;
    const racing = wrap(store, {
      appendToStream: async () => {
        conflicts++;
        throw new ConcurrencyConflict('c-4', 0);
      },
    });
    await assert.rejects(handler(racing, 3)('c-4', { add: 1 }), { code: 'ABORTED' });
    assert.equal(conflicts, 3);
  });
});
