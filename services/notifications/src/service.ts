import { randomBytes } from 'node:crypto';
import { Durables, protoFiles, protoRoot } from '@conveyor/contracts';
import {
  consumerGrpcService,
  counter,
  pruneInbox,
  type RunningService,
  startPruning,
  startService,
} from '@conveyor/platform';
import { startUsersTokenVerifier, tokenVerifierOptions } from '@conveyor/platform/auth';
import { inTraceOf, traced, traceparentOf } from '@conveyor/platform/telemetry';
import { v7 as uuidv7 } from 'uuid';
import { CircuitBreakerGuard } from './adapters/circuit-breaker-guard.ts';
import { GrpcPersonalDataRevealer } from './adapters/grpc-personal-data-revealer.ts';
import { HttpWebhookPoster } from './adapters/http-webhook-poster.ts';
import { JetStreamDeadLetterQueue } from './adapters/jetstream-dead-letter-queue.ts';
import { PostgresDeliveryQueue } from './adapters/postgres-delivery-queue.ts';
import { PostgresNotificationStore } from './adapters/postgres-notification-store.ts';
import { PostgresWebhookStore } from './adapters/postgres-webhook-store.ts';
import { SmtpMailer } from './adapters/smtp-mailer.ts';
import { loadWebhookSecretBox, sealStoredSecrets } from './adapters/webhook-secret-keys.ts';
import { buildApp } from './app/build-app.ts';
import type { NotificationsConfig } from './config.ts';
import { startEventConsumers } from './ports/event-consumers.ts';
import { notificationGrpcService } from './ports/grpc-notification-service.ts';

/** Durable consumer name on every stream it reads; also the inbox's consumer key. */
export const consumerName = Durables.notifications;

export type RunningNotificationsService = RunningService;

/**
 * Starts the notification service on real adapters (Postgres, SMTP, HTTP, JetStream, the users
 * service) with its consumers and ports; main.ts and the integration tests start it through here.
 */
export function startNotificationsService(config: NotificationsConfig): Promise<RunningNotificationsService> {
  const options = {
    name: 'notifications' as const,
    config,
    poolSize: Math.min(config.CONSUMER_CONCURRENCY + 4, 40),
    protoRoot,
    protoFiles: protoFiles.notifications,
  };
  return startService(options, async (runtime) => {
    const { pool, jsm, logger, registry, shutdown, grpcCredentials } = runtime;
    const verifier = await startUsersTokenVerifier({
      address: config.USERS_ADDR,
      credentials: grpcCredentials,
      logger,
      registry,
      resilience: { deadlineMs: config.USERS_DEADLINE_MS },
      verifier: tokenVerifierOptions(config),
    });
    shutdown.add('final', 'stop token verifier', () => verifier.stop());
    // Names this process's claims on the delivery schedule (ADR 0018).
    const replica = uuidv7();
    let claims = 0;
    // Webhook secrets are sealed at rest (issue 22); the ones stored before are sealed now.
    const secretBox = await loadWebhookSecretBox({
      setting: config.WEBHOOK_SECRET_KEYS,
      production: config.NODE_ENV === 'production',
      pool,
      logger,
    });
    await sealStoredSecrets(pool, secretBox, logger);
    const deadLetters = new JetStreamDeadLetterQueue({ jsm, consumer: consumerName });
    const mailer = traced(
      new SmtpMailer({ url: config.SMTP_URL, from: config.MAIL_FROM, poolSize: config.SMTP_POOL_SIZE }),
      'send',
      'smtp send',
    );
    shutdown.add('final', 'close smtp pool', () => mailer.close());
    const sends = counter(registry, {
      name: 'conveyor_notification_sends_total',
      help: 'Notifications offered to a channel, by outcome (sent, failed, held, target-gone, expired).',
      labelNames: ['channel', 'outcome'],
    });
    const revealer = config.USERS_SERVICE_SECRET
      ? new GrpcPersonalDataRevealer({
          address: config.USERS_ADDR,
          secret: config.USERS_SERVICE_SECRET,
          deadlineMs: config.USERS_DEADLINE_MS,
          retryDelayMs: config.USERS_RETRY_DELAY_MS,
          credentials: grpcCredentials,
        })
      : undefined;
    if (revealer) shutdown.add('final', 'close users client', async () => revealer.close());
    else logger.warn('USERS_SERVICE_SECRET unset: user.created v2 events wait until it is configured');
    const app = buildApp({
      store: new PostgresNotificationStore(pool, consumerName),
      webhooks: new PostgresWebhookStore(pool, secretBox),
      deliveryQueue: new PostgresDeliveryQueue(pool, secretBox),
      deadLetters,
      mailer,
      webhookPoster: traced(
        new HttpWebhookPoster({
          timeoutMs: config.WEBHOOK_TIMEOUT_MS,
          allowLoopback: config.WEBHOOK_ALLOW_LOOPBACK,
        }),
        'post',
        'webhook POST',
      ),
      guard: new CircuitBreakerGuard({
        threshold: config.BREAKER_THRESHOLD,
        halfOpenAfterMs: config.BREAKER_HALF_OPEN_MS,
        logger,
        registry,
      }),
      revealer,
      releaseSequence: (original) => intake.sequences.copyRedriven(original),
      dropFromSequences: async (purged) => {
        await intake.sequences.purged(purged);
      },
      pausedStreams: () => controls.pausedStreams(consumerName),
      now: () => new Date(),
      random: Math.random,
      newId: uuidv7,
      newClaim: () => `${replica}:${claims++}`,
      newSecret: () => `whsec_${randomBytes(32).toString('base64url')}`,
      logger,
      traces: { inTrace: inTraceOf, current: () => traceparentOf() },
      onSendOutcome: (channel, outcome) => sends.inc({ channel, outcome }),
      settings: {
        consumer: consumerName,
        mailDomain: config.MAIL_DOMAIN,
        delivery: {
          maxAttempts: config.DELIVERY_MAX_ATTEMPTS,
          backoffMs: config.DELIVERY_BACKOFF_MS,
          maxAgeMs: config.DELIVERY_MAX_AGE_MS,
        },
        concurrency: { smtp: config.SMTP_POOL_SIZE, webhook: config.WEBHOOK_CONCURRENCY },
        leaseMs: config.DELIVERY_LEASE_MS,
        pollMs: config.DELIVERY_POLL_MS,
        allowLoopback: config.WEBHOOK_ALLOW_LOOPBACK,
        maxWebhooksPerOwner: config.WEBHOOK_MAX_PER_OWNER,
      },
    });
    app.delivery.start();
    // After the consumers (intake) stop: what they recorded last is still delivered or released.
    shutdown.add('work', 'stop delivering', () => app.delivery.stop());
    const { controls, consumers: intake } = await runtime.startControlledConsumers(
      config.CONSUMER_CONTROL_POLL_MS,
      (on) =>
        startEventConsumers({
          ...on,
          consumer: consumerName,
          handler: app.recordEvents,
          batchSize: config.CONSUMER_CONCURRENCY,
          maxDeliver: config.CONSUMER_MAX_DELIVER,
          backoffMs: config.CONSUMER_BACKOFF_MS,
          ackWaitMs: config.CONSUMER_ACK_WAIT_MS,
        }),
    );
    // The inbox remembers 35 days, past any redelivery or republish (ADR 0030).
    const pruning = startPruning({ logger, what: 'inbox', prune: (now) => pruneInbox(pool, now) });
    shutdown.add('work', 'stop pruning the inbox', async () => pruning.stop());

    return {
      grpc: [
        notificationGrpcService(app, logger, verifier),
        consumerGrpcService([intake.sequences], controls, logger, verifier),
      ],
    };
  });
}
