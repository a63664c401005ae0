import { type CloudEvent, newEvent, type ReceivedEvent } from '@conveyor/platform/core';
import { testClock } from '@conveyor/stack/testing/clock';
import { pino } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { buildApp, type NotificationAdapters, type NotificationApp } from '../app/build-app.ts';
import type { PurgedDeadLetters } from '../app/dead-letter-queue.ts';
import type { PersonalDataRevealer } from '../app/personal-data-revealer.ts';
import { InMemoryDeadLetterQueue } from './in-memory-dead-letters.ts';
import { InMemoryNotificationTables } from './in-memory-notifications.ts';
import { alwaysClosedGuard, RecordingMailer, RecordingWebhookPoster } from './recording-channels.ts';

/** Contact details "sealed" for user.created v2 and opened by users; erasing a user forgets them. */
export class InMemoryRevealer implements PersonalDataRevealer {
  readonly #people = new Map<string, { email: string; name: string } | 'erased'>();

  /** The sealed value a user.created v2 for this user carries. */
  seal(userId: string, person: { email: string; name: string }): string {
    this.#people.set(userId, person);
    return `v1.AAECAwQFBgcICQoL.${Buffer.from(userId).toString('base64url')}`;
  }

  erase(userId: string): void {
    this.#people.set(userId, 'erased');
  }

  async reveal(userId: string) {
    const person = this.#people.get(userId);
    if (!person) throw new Error(`nothing sealed for ${userId}`);
    return person;
  }
}

/**
 * The notification service's application on in-memory adapters (the component tests' wiring;
 * service.ts is production's): tables, dead letters, a recording mailer and webhook poster, a
 * guard without breakers, a hand-moved clock. Call `stop()` at the end (the delivery loop runs).
 */
export function inMemoryNotifications(settings: Partial<NotificationAdapters['settings']> = {}) {
  const clock = testClock();
  const tables = new InMemoryNotificationTables(clock.now);
  const consumer = 'notifications';
  const deadLetters = new InMemoryDeadLetterQueue(consumer);
  const mailer = new RecordingMailer();
  const webhookPoster = new RecordingWebhookPoster();
  const revealer = new InMemoryRevealer();
  const released: { stream: string; streamSequence: number }[] = [];
  const dropped: PurgedDeadLetters[] = [];
  let claims = 0;
  let sequence = 0;
  const app: NotificationApp = buildApp({
    store: tables.store,
    webhooks: tables.webhooks,
    deliveryQueue: tables.deliveries,
    deadLetters,
    mailer,
    webhookPoster,
    guard: alwaysClosedGuard,
    revealer,
    releaseSequence: async (original) => {
      released.push(original);
    },
    dropFromSequences: async (purged) => {
      dropped.push(purged);
    },
    pausedStreams: async () => new Map(),
    now: clock.now,
    random: () => 0.5, // no jitter: retries come back exactly after their backoff step
    newId: uuidv7,
    newClaim: () => `test:${claims++}`,
    newSecret: () => `whsec_${uuidv7()}`,
    logger: pino({ level: 'silent' }),
    settings: {
      consumer,
      mailDomain: 'conveyor.test',
      delivery: { maxAttempts: 3, backoffMs: [1000, 5000], maxAgeMs: 24 * 60 * 60_000 },
      concurrency: { smtp: 2, webhook: 2 },
      leaseMs: 60_000,
      pollMs: 5,
      allowLoopback: true,
      maxWebhooksPerOwner: 3,
      ...settings,
    },
  });
  app.delivery.start();
  const source = '/test';
  return {
    app,
    tables,
    deadLetters,
    mailer,
    webhookPoster,
    revealer,
    clock,
    released,
    dropped,
    /** Hands events to the consumers' handler as one batch, as JetStream would deliver them. */
    deliver(...events: CloudEvent[]) {
      const batch: ReceivedEvent[] = events.map((event) => ({
        event,
        delivery: {
          subject: event.type,
          stream: event.type.startsWith('user.') ? 'USERS' : 'ORDERS',
          streamSequence: ++sequence,
          deliveryCount: 1,
        },
      }));
      return app.recordEvents(batch);
    },
    userCreated(userId: string, person: { email: string; name: string }) {
      const personalData = revealer.seal(userId, person);
      return newEvent(
        'user.created',
        { userId, personalData, createdAt: clock.now().toISOString() },
        { source },
      );
    },
    userErased(userId: string) {
      revealer.erase(userId);
      return newEvent('user.erased', { userId, erasedAt: clock.now().toISOString() }, { source });
    },
    orderCreated(userId: string, orderId = uuidv7()) {
      const unitPrice = { amountMinor: 1250, currency: 'EUR' };
      return newEvent(
        'order.created',
        {
          orderId,
          userId,
          items: [{ sku: 'MUG-001', quantity: 2, unitPrice }],
          total: { amountMinor: 2500, currency: 'EUR' },
          placedAt: clock.now().toISOString(),
        },
        { source, subject: orderId, streamversion: 1 },
      );
    },
    /** Waits (bounded) until `condition` holds: the delivery loop works asynchronously. */
    async until(condition: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
      const deadline = performance.now() + timeoutMs;
      while (!condition()) {
        if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        app.delivery.wake();
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    },
    stop: () => app.delivery.stop(),
  };
}
