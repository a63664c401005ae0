import { type Caller, type HandlingOutcome, handleAgain, requireRole } from '@conveyor/platform/core';
import type { Logger } from 'pino';
import type { DeliveryPolicy, SendOutcome } from '../domain/delivery-decision.ts';
import type { DeadLetterQueue, PurgedDeadLetters } from './dead-letter-queue.ts';
import { deleteWebhook } from './delete-webhook.ts';
import { DeliveryScheduler } from './deliver-notifications.ts';
import type { DeliveryQueue } from './delivery-queue.ts';
import { getDeadLetter } from './get-dead-letter.ts';
import { listDeadLetters } from './list-dead-letters.ts';
import { listNotifications } from './list-notifications.ts';
import { listWebhooks } from './list-webhooks.ts';
import type { Mailer } from './mailer.ts';
import type { Notification, NotificationStore } from './notification-store.ts';
import type { PersonalDataRevealer } from './personal-data-revealer.ts';
import { purgeDeadLetters } from './purge-dead-letters.ts';
import { recordEvents } from './record-events.ts';
import { redriveDeadLetters } from './redrive-dead-letters.ts';
import { registerWebhook } from './register-webhook.ts';
import type { SendGuard } from './send-guard.ts';
import type { WebhookPoster } from './webhook-poster.ts';
import type { WebhookStore } from './webhook-store.ts';

/** Everything the notification use cases reach outside themselves; production's in service.ts. */
export interface NotificationAdapters {
  store: NotificationStore;
  webhooks: WebhookStore;
  deliveryQueue: DeliveryQueue;
  deadLetters: DeadLetterQueue;
  mailer: Mailer;
  webhookPoster: WebhookPoster;
  /** Circuit breakers per bulkhead. */
  guard: SendGuard;
  /** Opens user.created v2's sealed contact details; undefined when not configured. */
  revealer: PersonalDataRevealer | undefined;
  /**
   * A redriven message was handled: what waited behind it in its sequence goes on (ADR 0031).
   * Called only after start, so it may close over a consumer built from this app.
   */
  releaseSequence(original: { stream: string; streamSequence: number }): Promise<void>;
  /**
   * Dead letters were purged: the messages they held are dropped from their sequences, never
   * applied, and what waited behind them goes on (ADR 0031). Called only after start, as above.
   */
  dropFromSequences(purged: PurgedDeadLetters): Promise<void>;
  /**
   * The streams on which an operator has paused this consumer, with the pause's reason (ADR 0033):
   * a dead message of one is not redriven. Called only after start, as above.
   */
  pausedStreams(): Promise<ReadonlyMap<string, string>>;
  now: () => Date;
  /** In [0, 1): retry jitter. */
  random: () => number;
  /** New notification and webhook ids (UUIDv7). */
  newId: () => string;
  /** A new unique token per delivery claim. */
  newClaim: () => string;
  /** A new random webhook signing secret. */
  newSecret: () => string;
  logger: Logger;
  /** Telemetry around sends; tests leave it out. */
  traces?: {
    inTrace: <T>(traceparent: string | undefined, send: () => Promise<T>) => Promise<T>;
    current: () => string | undefined;
  };
  /** Called once per send outcome (metrics). */
  onSendOutcome?: (channel: Notification['channel'], outcome: SendOutcome['kind']) => void;
  settings: {
    /** This consumer's name: its inbox rows and dead letters. */
    consumer: string;
    mailDomain: string;
    delivery: DeliveryPolicy & { maxAgeMs: number };
    concurrency: { smtp: number; webhook: number };
    leaseMs: number;
    pollMs: number;
    allowLoopback: boolean;
    maxWebhooksPerOwner: number;
  };
}

/** A use case for admins only: PERMISSION_DENIED for anyone else, before it runs. */
function forAdmins<Args extends unknown[], Result>(useCase: (...args: Args) => Promise<Result>) {
  return async (caller: Caller, ...args: Args): Promise<Result> => {
    requireRole(caller, ['admin']);
    return useCase(...args);
  };
}

/**
 * The notification service's application: its use cases wired to the adapters, nothing started.
 * The consumers call `recordEvents`, `delivery` sends what it recorded (start and stop it), the
 * gRPC port calls the rest. Production and the component tests build it the same way.
 */
export function buildApp(adapters: NotificationAdapters) {
  const { store, webhooks, deadLetters, now, settings } = adapters;
  const delivery = new DeliveryScheduler({
    queue: adapters.deliveryQueue,
    mailer: adapters.mailer,
    webhooks: adapters.webhookPoster,
    guard: adapters.guard,
    deadLetters,
    mailDomain: settings.mailDomain,
    policy: settings.delivery,
    concurrency: settings.concurrency,
    leaseMs: settings.leaseMs,
    pollMs: settings.pollMs,
    now,
    random: adapters.random,
    newClaim: adapters.newClaim,
    logger: adapters.logger,
    inTrace: adapters.traces?.inTrace ?? ((_, send) => send()),
    currentTrace: adapters.traces?.current ?? (() => undefined),
    ...(adapters.onSendOutcome ? { onOutcome: adapters.onSendOutcome } : {}),
  });
  const record = recordEvents({
    store,
    revealer: adapters.revealer,
    consumer: settings.consumer,
    newId: adapters.newId,
    now,
    delivery,
  });
  return {
    /** The consumers' batch handler (ADR 0018: record, acknowledge, then deliver). */
    recordEvents: record,
    delivery,
    listNotifications: listNotifications({ store }),
    registerWebhook: forAdmins(
      registerWebhook({
        webhooks,
        newId: adapters.newId,
        now,
        newSecret: adapters.newSecret,
        allowLoopback: settings.allowLoopback,
        maxPerOwner: settings.maxWebhooksPerOwner,
      }),
    ),
    listWebhooks: forAdmins(listWebhooks({ webhooks })),
    deleteWebhook: forAdmins(deleteWebhook({ webhooks })),
    listDeadLetters: forAdmins(listDeadLetters({ deadLetters })),
    getDeadLetter: forAdmins(getDeadLetter({ deadLetters })),
    redriveDeadLetters: forAdmins(
      redriveDeadLetters({
        deadLetters,
        store,
        // A dead letter redriven from its DEADLETTERS copy releases its sequence too.
        pausedStreams: adapters.pausedStreams,
        redriven: (deadLetter) =>
          adapters.releaseSequence({
            stream: deadLetter.originalStream,
            streamSequence: deadLetter.originalSequence,
          }),
        handleAgain: (deadLetter): Promise<HandlingOutcome> =>
          handleAgain(record, {
            headers: deadLetter.headers,
            payload: deadLetter.payload,
            delivery: {
              subject: deadLetter.originalSubject,
              stream: deadLetter.originalStream,
              streamSequence: deadLetter.originalSequence,
              deliveryCount: 1,
            },
          }),
      }),
    ),
    purgeDeadLetters: forAdmins(
      purgeDeadLetters({ deadLetters, dropFromSequences: adapters.dropFromSequences }),
    ),
  };
}

export type NotificationApp = ReturnType<typeof buildApp>;
