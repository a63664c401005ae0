import { InMemoryEventStore } from '@conveyor/platform/core';
import { type TestClock, testClock } from '@conveyor/stack/testing/clock';
import { v7 as uuidv7 } from 'uuid';
import { buildApp, type OrderAdapters, type OrderApp } from '../app/build-app.ts';
import type { Caller } from '../app/caller.ts';
import { PAYMENT_TIMER_KIND } from '../app/order-command-handler.ts';
import { fromIntegrationEvent } from '../app/order-event-mapping.ts';
import {
  InMemoryCatalog,
  InMemoryOrderReadModels,
  InMemoryRebuildTarget,
  InMemoryUserDirectory,
  recordingRequeue,
} from './in-memory-orders.ts';

export interface InMemoryOrders {
  app: OrderApp;
  store: InMemoryEventStore;
  readModels: InMemoryOrderReadModels;
  catalog: InMemoryCatalog;
  users: InMemoryUserDirectory;
  clock: TestClock;
  /** What RepublishEvents queued. */
  requeued: ReturnType<typeof recordingRequeue>['queued'];
  /** Projects the order events appended since the last call, as the projection consumer would. */
  project(): Promise<void>;
  /** Fires the payment timers due by the clock, as the timer runner would, and forgets them. */
  fireDueTimers(): Promise<number>;
  customer(userId?: string): Caller;
  admin(): Caller;
}

/**
 * The order service's application on in-memory adapters (the component tests' wiring; service.ts
 * is production's). Users made with `customer()` exist in the directory.
 */
export function inMemoryOrders(settings: Partial<OrderAdapters['settings']> = {}): InMemoryOrders {
  const store = new InMemoryEventStore();
  const readModels = new InMemoryOrderReadModels();
  const catalog = new InMemoryCatalog();
  const users = new InMemoryUserDirectory();
  const clock = testClock();
  const { queued, requeue } = recordingRequeue();
  const app = buildApp({
    store,
    catalog,
    readModels,
    projection: readModels,
    users,
    rebuildTarget: new InMemoryRebuildTarget(readModels, store),
    requeue,
    now: clock.now,
    newId: uuidv7,
    settings: { snapshotEvery: 3, commandMaxAttempts: 5, paymentTimeoutMs: 0, ...settings },
  });
  let projected = 0;
  const caller = (role: Caller['role'], subject: string): Caller => ({
    subject,
    role,
    token: `token-of-${subject}`,
  });
  return {
    app,
    store,
    readModels,
    catalog,
    users,
    clock,
    requeued: queued,
    async project() {
      const fresh = store.outbox.slice(projected);
      projected = store.outbox.length;
      const deliveries = fresh.map(fromIntegrationEvent).filter((d) => d !== undefined);
      await app.projectOrderEvents(deliveries);
    },
    async fireDueTimers() {
      const due = [...store.timers.values()].filter(
        (t) => t.kind === PAYMENT_TIMER_KIND && t.dueAt <= clock.now(),
      );
      for (const timer of due) {
        await app.expirePayment({
          ...timer,
          payload: timer.payload ?? {},
          attempts: 0,
          lastError: undefined,
          claimedUntil: undefined,
          traceparent: undefined,
        });
        store.timers.delete(timer.key);
      }
      return due.length;
    },
    customer(userId = uuidv7()) {
      users.add(userId);
      return caller('customer', userId);
    },
    admin: () => caller('admin', uuidv7()),
  };
}
