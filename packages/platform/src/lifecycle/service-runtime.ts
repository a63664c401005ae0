import type { ChannelCredentials } from '@grpc/grpc-js';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type pg from 'pg';
import { type AdmissionPool, InFlightLimit } from '../grpc/in-flight-limit.ts';
import { measureGrpcClients } from '../grpc/rpc-metrics.ts';
import { createGrpcServer, type GrpcService, listenGrpc, stopGrpc } from '../grpc/server.ts';
import { grpcTransport } from '../grpc/tls.ts';
import { ConsumerControls } from '../messaging/consumer-controls.ts';
import { connectNats, manager, pingNats } from '../messaging/nats.ts';
import { OutboxRelay } from '../messaging/outbox-relay.ts';
import type { SequencedConsumersOptions } from '../messaging/sequenced-consumers.ts';
import { prepareStreams } from '../messaging/topology.ts';
import { createPool, pingPostgres } from '../postgres/pool.ts';
import { type ServiceDefaults, startServiceDefaults } from './service-defaults.ts';

/** The variables every service with Postgres, NATS and gRPC reads (see serviceEnv and each config.ts). */
export interface RuntimeConfig {
  LOG_LEVEL: string;
  OPS_HOST: string;
  OPS_PORT: number;
  GRPC_HOST: string;
  GRPC_PORT: number;
  SHUTDOWN_GRACE_MS: number;
  GRPC_MAX_IN_FLIGHT: number;
  DATABASE_URL: string;
  DATABASE_SCHEMA: string;
  NATS_URL: string;
  NATS_STREAM_REPLICAS: number;
  NATS_NKEY_SEED?: string | undefined;
  NATS_ADMIN_NKEY_SEED?: string | undefined;
  NATS_MANAGE_TOPOLOGY?: boolean | undefined;
  NATS_TLS_CA_FILE?: string | undefined;
  NATS_TLS_CERT_FILE?: string | undefined;
  NATS_TLS_KEY_FILE?: string | undefined;
  GRPC_TLS_CERT_FILE?: string | undefined;
  GRPC_TLS_KEY_FILE?: string | undefined;
  GRPC_TLS_CA_FILE?: string | undefined;
}

/** What a service's wiring function gets: everything connected, shutdown steps registered. */
export interface ServiceRuntime extends ServiceDefaults {
  pool: pg.Pool;
  nc: NatsConnection;
  jsm: JetStreamManager;
  /** How this service calls other services over gRPC (TLS when GRPC_TLS_CA_FILE is set). */
  grpcCredentials: ChannelCredentials;
  /** Starts the service's outbox relay (one active per schema across replicas). */
  startOutboxRelay(): OutboxRelay;
  /**
   * Starts the service's consumers under an operator's controls (ADR 0033): `start` starts them with
   * the runtime's connections and `controls`, which then read the operator's flags every `pollMs`.
   * Shutdown's intake step stops the controls, then the consumers.
   */
  startControlledConsumers<Consumers extends { stop(): Promise<void> }>(
    pollMs: number,
    start: (on: ConsumerConnections) => Promise<Consumers>,
  ): Promise<{ controls: ConsumerControls; consumers: Consumers }>;
}

/** What a service's consumers are started with. */
export type ConsumerConnections = Pick<
  SequencedConsumersOptions,
  'controls' | 'nc' | 'jsm' | 'pool' | 'logger' | 'registry'
>;

export interface RunningService extends ServiceDefaults {
  grpcPort: number;
  stop(): Promise<void>;
}

/**
 * The shared start-up of every service: service defaults (logs, metrics,
 * ops port, shutdown), a Postgres pool on the service's schema, NATS with the
 * streams ensured, then the service's own wiring (`wire` returns its gRPC
 * services and anything the caller wants back), then gRPC with health and
 * reflection, readiness on Postgres and NATS, and ordered shutdown. Anything
 * failing during start-up undoes what was started.
 */
export async function startService<Extra extends object>(
  options: {
    name: 'users' | 'orders' | 'notifications';
    config: RuntimeConfig;
    poolSize?: number;
    protoRoot: string;
    protoFiles: readonly string[];
    /** Methods with an in-flight allowance of their own, apart from GRPC_MAX_IN_FLIGHT's. */
    admission?: readonly AdmissionPool[];
  },
  wire: (runtime: ServiceRuntime) => Promise<{ grpc: GrpcService[] } & Extra>,
): Promise<RunningService & Omit<Extra, 'grpc'>> {
  const { name, config } = options;
  const defaults = await startServiceDefaults({
    service: name,
    logLevel: config.LOG_LEVEL,
    opsHost: config.OPS_HOST,
    opsPort: config.OPS_PORT,
    graceMs: config.SHUTDOWN_GRACE_MS,
  });
  const { logger, registry, readiness, shutdown } = defaults;
  measureGrpcClients(registry);
  try {
    const transport = grpcTransport(config);
    const pool = createPool({
      url: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      applicationName: name,
      ...(options.poolSize ? { max: options.poolSize } : {}),
    });
    shutdown.add('connections', 'close postgres pool', () => pool.end());
    const nc = await connectNats({
      url: config.NATS_URL,
      name,
      logger,
      identity: config.NATS_NKEY_SEED ? { name: options.name, seed: config.NATS_NKEY_SEED } : undefined,
      tls: config,
    });
    shutdown.add('connections', 'drain nats', () => nc.drain());
    const jsm = await manager(nc);
    await prepareStreams(jsm, config, logger);
    const startOutboxRelay = () => {
      const relay = new OutboxRelay({
        url: config.DATABASE_URL,
        schema: config.DATABASE_SCHEMA,
        nc,
        logger,
        registry,
      });
      relay.start();
      shutdown.add('work', 'stop outbox relay', () => relay.stop());
      return relay;
    };

    const startControlledConsumers: ServiceRuntime['startControlledConsumers'] = async (pollMs, start) => {
      const controls = new ConsumerControls({
        pool,
        jsm,
        logger,
        registry,
        pollMs,
        manageTopology: config.NATS_MANAGE_TOPOLOGY !== false,
      });
      const consumers = await start({ controls, nc, jsm, pool, logger, registry });
      controls.start();
      shutdown.add('intake', 'stop consumers', () => controls.stop().then(() => consumers.stop()));
      return { controls, consumers };
    };

    const { grpc, ...extra } = await wire({
      ...defaults,
      pool,
      nc,
      jsm,
      startOutboxRelay,
      startControlledConsumers,
      grpcCredentials: transport.client,
    });
    const server = createGrpcServer({
      services: grpc,
      readiness,
      protoRoot: options.protoRoot,
      protoFiles: options.protoFiles,
      registry,
      inFlightLimit: new InFlightLimit(config.GRPC_MAX_IN_FLIGHT, registry, options.admission),
    });
    const grpcPort = await listenGrpc(server, config.GRPC_HOST, config.GRPC_PORT, transport.server);
    shutdown.add('intake', 'stop grpc', () => stopGrpc(server, config.SHUTDOWN_GRACE_MS / 2));

    readiness.add('postgres', () => pingPostgres(pool)).add('nats', () => pingNats(nc));
    readiness.watch(2000);
    logger.info(
      { grpcPort, opsPort: defaults.ops.port, transport: transport.describe },
      `${name} service ready`,
    );
    return { ...defaults, ...extra, grpcPort, stop: () => shutdown.run('stop') };
  } catch (error) {
    await shutdown.run('start-up failed');
    throw error;
  }
}
