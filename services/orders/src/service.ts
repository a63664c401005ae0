import { randomUUID } from 'node:crypto';
import { protoFiles, protoRoot } from '@conveyor/contracts';
import {
  ConsumerControls,
  consumerGrpcService,
  type OutboxRelay,
  type Pool,
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
import { cancelOrder } from './app/cancel-order.ts';
import { changeOrder } from './app/change-order.ts';
import { deliverOrder } from './app/deliver-order.ts';
import { expirePayment } from './app/expire-payment.ts';
import { getOrder } from './app/get-order.ts';
import { getProduct } from './app/get-product.ts';
import { listOrders } from './app/list-orders.ts';
import { listProducts } from './app/list-products.ts';
import {
  type OrderCommandHandler,
  orderCommandHandler,
  PAYMENT_TIMER_KIND,
} from './app/order-command-handler.ts';
import { getOrderAt, getOrderHistory } from './app/order-history.ts';
import { orderOwner } from './app/order-owner.ts';
import { payOrder } from './app/pay-order.ts';
import { placeOrder } from './app/place-order.ts';
import { projectOrderEvents } from './app/project-order-event.ts';
import { rebuildProjections } from './app/rebuild-projections.ts';
import { republishEvents } from './app/republish-events.ts';
import { shipOrder } from './app/ship-order.ts';
import type { OrdersConfig } from './config.ts';
import { type OrderUseCases, orderGrpcService } from './ports/grpc-order-service.ts';
import { startProjectionConsumer } from './ports/projection-consumer.ts';

export interface RunningOrdersService extends RunningService {
  relay: OutboxRelay;
}

/** Wires the order service; main.ts and the tests both start it through here. */
export function startOrdersService(config: OrdersConfig): Promise<RunningOrdersService> {
  const options = {
    name: 'orders' as const,
    config,
    poolSize: config.DATABASE_POOL_SIZE,
    protoRoot,
    protoFiles: protoFiles.orders,
  };
  return startService(options, async (runtime) => {
    const { pool, nc, jsm, logger, registry, shutdown } = runtime;
    const relay = runtime.startOutboxRelay();
    const store = new PostgresEventStore(pool, {
      onAppended: () => relay.signalCommitted(),
      groupCommit: config.APPEND_GROUP_COMMIT,
    });
    const readModels = new PostgresOrderReadModels(pool);
    const controls = new ConsumerControls({
      pool,
      jsm,
      logger,
      registry,
      pollMs: config.CONSUMER_CONTROL_POLL_MS,
      manageTopology: config.NATS_MANAGE_TOPOLOGY,
    });
    const projections = await startProjectionConsumer({
      controls,
      nc,
      jsm,
      pool,
      logger,
      registry,
      project: projectOrderEvents({ table: readModels, store }),
      batchSize: config.PROJECTION_CONCURRENCY,
      maxDeliver: config.PROJECTION_MAX_DELIVER,
      backoffMs: config.PROJECTION_BACKOFF_MS,
      ackWaitMs: config.PROJECTION_ACK_WAIT_MS,
    });
    controls.start();
    shutdown.add('intake', 'stop projections', () => controls.stop().then(() => projections.stop()));
    // PlaceOrder's idempotency keys are kept 35 days, as consumers' inboxes (ADR 0030).
    const pruning = startPruning({
      logger,
      what: 'idempotency claims',
      prune: (now) => pruneIdempotencyClaims(pool, now),
    });
    shutdown.add('work', 'stop pruning idempotency claims', async () => pruning.stop());
    const verifier = await startTokenVerifier(config, {
      logger,
      registry,
      credentials: runtime.grpcCredentials,
    });
    shutdown.add('final', 'stop token verifier', () => verifier.stop());
    const { app, handle } = wireUseCases({ config, pool, store, readModels });
    const timers = startTimerRunner({
      db: pool,
      logger,
      registry,
      owner: `orders:${randomUUID()}`,
      pollMs: config.TIMERS_POLL_MS,
      leaseMs: config.TIMERS_LEASE_MS,
      handlers: { [PAYMENT_TIMER_KIND]: expirePayment({ handle, now: () => new Date() }) },
    });
    shutdown.add('work', 'stop firing timers', () => timers.stop());
    const users = new GrpcUserDirectory(config.USERS_ADDR, verifier.downstream, runtime.grpcCredentials);
    shutdown.add('final', 'close users client', () => users.close());
    return {
      grpc: [
        orderGrpcService(app, logger, verifier, users),
        consumerGrpcService([projections.sequences], controls, logger, verifier, pool),
      ],
      relay,
    };
  });
}

function wireUseCases(deps: {
  config: OrdersConfig;
  pool: Pool;
  store: PostgresEventStore;
  readModels: PostgresOrderReadModels;
}): { app: OrderUseCases; handle: OrderCommandHandler } {
  const { config, pool, store, readModels } = deps;
  const now = () => new Date();
  const postgresCatalog = new PostgresCatalog(pool);
  const catalog =
    config.CATALOG_CACHE_TTL_MS > 0
      ? new CachedCatalog(postgresCatalog, { ttlMs: config.CATALOG_CACHE_TTL_MS })
      : postgresCatalog;
  const handle = orderCommandHandler({
    store,
    newEventId: uuidv7,
    snapshotEvery: config.SNAPSHOT_EVERY,
    maxAttempts: config.COMMAND_MAX_ATTEMPTS,
  });
  const change = changeOrder({ handle });
  const app: OrderUseCases = {
    listProducts: listProducts({ catalog }),
    getProduct: getProduct({ catalog }),
    orderOwner: orderOwner({ store }),
    placeOrder: placeOrder({
      handle,
      store,
      catalog,
      newOrderId: uuidv7,
      now,
      paymentTimeoutMs: config.ORDER_PAYMENT_TIMEOUT,
    }),
    payOrder: payOrder(change, now),
    shipOrder: shipOrder(change, now),
    deliverOrder: deliverOrder(change, now),
    cancelOrder: cancelOrder(change, now),
    getOrder: getOrder({ readModels }),
    listOrders: listOrders({ readModels }),
    getOrderHistory: getOrderHistory({ store }),
    getOrderAt: getOrderAt({ store }),
    rebuildProjections: rebuildProjections({ store, target: new PostgresProjectionRebuild(pool) }),
    republishEvents: republishEvents({
      store,
      requeue: (events) => requeueInOutbox(pool, events),
      now: () => new Date(),
    }),
  };
  return { app, handle };
}
