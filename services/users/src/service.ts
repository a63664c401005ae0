import { protoFiles, protoRoot } from '@conveyor/contracts';
import {
  connectNats,
  createGrpcServer,
  createPool,
  ensureStreams,
  listenGrpc,
  manager,
  OutboxRelay,
  pingNats,
  pingPostgres,
  type ServiceDefaults,
  startServiceDefaults,
  stopGrpc,
} from '@conveyor/platform';
import { v7 as uuidv7 } from 'uuid';
import { PostgresUserRepository } from './adapters/postgres-user-repository.ts';
import { createUser } from './app/create-user.ts';
import { getUser } from './app/get-user.ts';
import type { UsersConfig } from './config.ts';
import { userGrpcService } from './ports/grpc-user-service.ts';

export interface RunningUsersService extends ServiceDefaults {
  grpcPort: number;
  relay: OutboxRelay;
  stop(): Promise<void>;
}

/** Wires the users service; main.ts and the tests both start it through here. */
export async function startUsersService(config: UsersConfig): Promise<RunningUsersService> {
  const defaults = await startServiceDefaults({
    service: 'users',
    logLevel: config.LOG_LEVEL,
    opsHost: config.OPS_HOST,
    opsPort: config.OPS_PORT,
    graceMs: config.SHUTDOWN_GRACE_MS,
  });
  const { logger, registry, readiness, shutdown } = defaults;
  try {
    const pool = createPool({
      url: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      applicationName: 'users',
    });
    shutdown.add('connections', 'close postgres pool', () => pool.end());
    const nc = await connectNats({ url: config.NATS_URL, name: 'users', logger });
    shutdown.add('connections', 'drain nats', () => nc.drain());
    await ensureStreams(await manager(nc), { replicas: config.NATS_STREAM_REPLICAS });

    const relay = new OutboxRelay({
      url: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      nc,
      logger,
      registry,
    });
    relay.start();
    shutdown.add('work', 'stop outbox relay', () => relay.stop());

    const users = new PostgresUserRepository(pool, () => relay.signalCommitted());
    const app = {
      createUser: createUser({ users, newId: uuidv7, now: () => new Date(), source: 'conveyor/users' }),
      getUser: getUser({ users }),
    };
    const server = createGrpcServer({
      services: [userGrpcService(app, logger)],
      readiness,
      protoRoot,
      protoFiles: protoFiles.users,
    });
    const grpcPort = await listenGrpc(server, config.GRPC_HOST, config.GRPC_PORT);
    shutdown.add('intake', 'stop grpc', () => stopGrpc(server, config.SHUTDOWN_GRACE_MS / 2));

    readiness.add('postgres', () => pingPostgres(pool)).add('nats', () => pingNats(nc));
    readiness.watch(2000);
    logger.info({ grpcPort, opsPort: defaults.ops.port }, 'users service ready');
    return { ...defaults, grpcPort, relay, stop: () => shutdown.run('stop') };
  } catch (error) {
    await shutdown.run('start-up failed');
    throw error;
  }
}
