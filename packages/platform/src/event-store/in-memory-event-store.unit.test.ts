import { eventStoreContract } from './event-store.contract.ts';
import { InMemoryEventStore } from './in-memory-event-store.ts';

eventStoreContract('in memory', async () => {
  const store = new InMemoryEventStore();
  return {
    store,
    outboxEventIds: async () => store.outbox.map((e) => e.id),
    timers: async () => new Map([...store.timers].map(([key, t]) => [key, t.dueAt])),
    teardown: async () => {},
  };
});
