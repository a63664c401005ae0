import { randomUUID } from 'node:crypto';
import { protoFiles, protoRoot } from '@conveyor/contracts';
import {
  consumerGrpcService,
  type OutboxRelay,
  PostgresEventStore,
  pruneIdempotencyClaims,
  type RunningService,
  requeueInOutbox,
  startPruning,
  startService,
  startTimerRunner,
} from '@conveyor/platform';
import { v7 as uuidv7 } from 'uuid';
import { CachedCatalog } from './adapters/cached-catalog.ts';
import { GrpcUserDirectory } from './adapters/grpc-user-directory.ts';
import { PostgresCatalog } from './adapters/postgres-catalog.ts';
import { PostgresProjectionRebuild } from './adapters/postgres-projection-rebuild.ts';
import { PostgresOrderReadModels } from './adapters/postgres-read-models.ts';
import { startTokenVerifier } from './adapters/users-token-verifier.ts';
import { buildApp } from './app/build-app.ts';
import { PAYMENT_TIMER_KIND } from './app/order-command-handler.ts';
import type { OrdersConfig } from './config.ts';
import { orderGrpcService } from './ports/grpc-order-service.ts';
import { startProjectionConsumer } from './ports/projection-consumer.ts';

export interface RunningOrdersService extends RunningService {
  relay: OutboxRelay;
}

/**
 * Starts the order service on real adapters (Postgres, the users service) with its consumer,
 * timers and ports; main.ts and the integration tests both start it through here.
 */
export function startOrdersService(config: OrdersConfig): Promise<RunningOrdersService> {
  const options = {
    name: 'orders' as const,
    config,
    poolSize: config.DATABASE_POOL_SIZE,
    protoRoot,
    protoFiles: protoFiles.orders,
  };
  return startService(options, async (runtime) => {
    const { pool, logger, registry, shutdown } = runtime;
    const relay = runtime.startOutboxRelay();
    const store = new PostgresEventStore(pool, {
      onAppended: () => relay.signalCommitted(),
      groupCommit: config.APPEND_GROUP_COMMIT,
    });
    const verifier = await startTokenVerifier(config, {
      logger,
      registry,
      credentials: runtime.grpcCredentials,
    });
    shutdown.add('final', 'stop token verifier', () => verifier.stop());
    const users = new GrpcUserDirectory(config.USERS_ADDR, verifier.downstream, runtime.grpcCredentials);
    shutdown.add('final', 'close users client', () => users.close());
    const readModels = new PostgresOrderReadModels(pool);
    const postgresCatalog = new PostgresCatalog(pool);
    const app = buildApp({
      store,
      catalog:
        config.CATALOG_CACHE_TTL_MS > 0
          ? new CachedCatalog(postgresCatalog, { ttlMs: config.CATALOG_CACHE_TTL_MS })
          : postgresCatalog,
      readModels,
      projection: readModels,
      users,
      rebuildTarget: new PostgresProjectionRebuild(pool),
      requeue: (events) => requeueInOutbox(pool, events),
      now: () => new Date(),
      newId: uuidv7,
      settings: {
        snapshotEvery: config.SNAPSHOT_EVERY,
        commandMaxAttempts: config.COMMAND_MAX_ATTEMPTS,
        paymentTimeoutMs: config.ORDER_PAYMENT_TIMEOUT,
      },
    });
    const { controls, consumers: projections } = await runtime.startControlledConsumers(
      config.CONSUMER_CONTROL_POLL_MS,
      (on) =>
        startProjectionConsumer({
          ...on,
          project: app.projectOrderEvents,
          batchSize: config.PROJECTION_CONCURRENCY,
          maxDeliver: config.PROJECTION_MAX_DELIVER,
          backoffMs: config.PROJECTION_BACKOFF_MS,
          ackWaitMs: config.PROJECTION_ACK_WAIT_MS,
        }),
    );
    // PlaceOrder's idempotency keys are kept 35 days, as consumers' inboxes (ADR 0030).
    const pruning = startPruning({
      logger,
      what: 'idempotency claims',
      prune: (now) => pruneIdempotencyClaims(pool, now),
    });
    shutdown.add('work', 'stop pruning idempotency claims', async () => pruning.stop());
    const timers = startTimerRunner({
      db: pool,
      logger,
      registry,
      owner: `orders:${randomUUID()}`,
      pollMs: config.TIMERS_POLL_MS,
      leaseMs: config.TIMERS_LEASE_MS,
      handlers: { [PAYMENT_TIMER_KIND]: app.expirePayment },
    });
    shutdown.add('work', 'stop firing timers', () => timers.stop());
    return {
      grpc: [
        orderGrpcService(app, logger, verifier),
        consumerGrpcService([projections.sequences], controls, logger, verifier, pool),
      ],
      relay,
    };
  });
}
