import { protoFiles, protoRoot } from '@conveyor/contracts';
import {
  connectNats,
  createGrpcServer,
  createPool,
  ensureStreams,
  listenGrpc,
  manager,
  pingNats,
  pingPostgres,
  type ServiceDefaults,
  startServiceDefaults,
  stopGrpc,
} from '@conveyor/platform';
import { PostgresCatalog } from './adapters/postgres-catalog.ts';
import { getProduct } from './app/get-product.ts';
import { listProducts } from './app/list-products.ts';
import type { OrdersConfig } from './config.ts';
import { orderGrpcService } from './ports/grpc-order-service.ts';

export interface RunningOrdersService extends ServiceDefaults {
  grpcPort: number;
  stop(): Promise<void>;
}

/** Wires the order service; main.ts and the tests both start it through here. */
export async function startOrdersService(config: OrdersConfig): Promise<RunningOrdersService> {
  const defaults = await startServiceDefaults({
    service: 'orders',
    logLevel: config.LOG_LEVEL,
    opsHost: config.OPS_HOST,
    opsPort: config.OPS_PORT,
    graceMs: config.SHUTDOWN_GRACE_MS,
  });
  const { logger, readiness, shutdown } = defaults;
  try {
    const pool = createPool({
      url: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      applicationName: 'orders',
    });
    shutdown.add('connections', 'close postgres pool', () => pool.end());
    const nc = await connectNats({ url: config.NATS_URL, name: 'orders', logger });
    shutdown.add('connections', 'drain nats', () => nc.drain());
    await ensureStreams(await manager(nc));

    const catalog = new PostgresCatalog(pool);
    const app = { listProducts: listProducts({ catalog }), getProduct: getProduct({ catalog }) };
    const server = createGrpcServer({
      services: [orderGrpcService(app, logger)],
      readiness,
      protoRoot,
      protoFiles: protoFiles.orders,
    });
    const grpcPort = await listenGrpc(server, config.GRPC_HOST, config.GRPC_PORT);
    shutdown.add('intake', 'stop grpc', () => stopGrpc(server, config.SHUTDOWN_GRACE_MS / 2));

    readiness.add('postgres', () => pingPostgres(pool)).add('nats', () => pingNats(nc));
    readiness.watch(2000);
    logger.info({ grpcPort, opsPort: defaults.ops.port }, 'orders service ready');
    return { ...defaults, grpcPort, stop: () => shutdown.run('stop') };
  } catch (error) {
    await shutdown.run('start-up failed');
    throw error;
  }
}
