import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  connectNats,
  grpcTransport,
  histogram,
  type ServiceDefaults,
  startServiceDefaults,
} from '@conveyor/platform';
import { startEdgeLimits } from './adapters/edge-limits.ts';
import { GrpcBackends } from './adapters/grpc-backends.ts';
import { httpServiceProbe } from './adapters/http-service-probe.ts';
import { opsSnapshot } from './app/ops-snapshot.ts';
import type { GatewayConfig } from './config.ts';
import { createGatewayServer } from './ports/http/http-server.ts';
import { toProblem } from './ports/http/problem.ts';
import { SseStreams } from './ports/http/sse.ts';

export interface RunningGateway extends ServiceDefaults {
  /** The HTTP port actually bound (config 0 picks a free one). */
  port: number;
  url: string;
}

const webRoot = fileURLToPath(new URL('../web', import.meta.url));

/** Wires the gateway; main.ts and the tests both start it through here. */
export async function startGateway(config: GatewayConfig): Promise<RunningGateway> {
  const defaults = await startServiceDefaults({
    service: 'gateway',
    logLevel: config.LOG_LEVEL,
    opsHost: config.OPS_HOST,
    opsPort: config.OPS_PORT,
    graceMs: config.SHUTDOWN_GRACE_MS,
  });
  const { logger, registry, readiness, shutdown } = defaults;
  const transport = grpcTransport(config);
  logger.info(transport.describe);
  const backends = new GrpcBackends({
    addresses: {
      users: config.USERS_ADDR,
      orders: config.ORDERS_ADDR,
      notifications: config.NOTIFICATIONS_ADDR,
    },
    deadlineMs: config.GATEWAY_DEADLINE_MS,
    logger,
    registry,
    credentials: transport.client,
  });
  const probes = [
    httpServiceProbe('users', config.USERS_OPS_URL, 1500),
    httpServiceProbe('orders', config.ORDERS_OPS_URL, 1500),
    httpServiceProbe('notifications', config.NOTIFICATIONS_OPS_URL, 1500),
    // Itself too: its breakers towards each service show on the dashboard.
    httpServiceProbe('gateway', `http://127.0.0.1:${defaults.ops.port}`, 1500),
  ];
  const nc = config.NATS_URL
    ? await connectNats({
        url: config.NATS_URL,
        name: 'gateway',
        logger,
        identity: config.NATS_NKEY_SEED ? { name: 'gateway', seed: config.NATS_NKEY_SEED } : undefined,
        tls: config,
      })
    : undefined;
  if (nc) shutdown.add('final', 'close NATS', () => nc.close());
  const limits = await startEdgeLimits(
    {
      signupsPerIpPerHour: config.GATEWAY_SIGNUPS_PER_IP_PER_HOUR,
      loginsPerIpPerMinute: config.GATEWAY_LOGINS_PER_IP_PER_MINUTE,
      loginsPerAccountPerMinute: config.GATEWAY_LOGINS_PER_ACCOUNT_PER_MINUTE,
    },
    { ...(nc ? { nc } : {}), logger, registry },
  );
  const streams = new SseStreams(config.GATEWAY_SSE_MAX_CONNECTIONS, config.GATEWAY_SSE_MAX_PER_USER);
  const requests = histogram(registry, {
    name: 'conveyor_http_request_duration_seconds',
    help: 'Gateway HTTP requests by route template and status.',
    labelNames: ['route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });
  const server = createGatewayServer(
    {
      backends,
      limits,
      snapshot: () => opsSnapshot(probes, () => new Date()),
      streams,
      sseIntervalMs: config.GATEWAY_SSE_INTERVAL_MS,
      opsIntervalMs: 2000,
      rebuildDeadlineMs: 10 * 60_000,
      newIdempotencyKey: randomUUID,
      logProblem: (error) => {
        const { body, internal } = toProblem(error);
        if (internal) logger.error({ err: error }, 'stream failed');
        return body;
      },
    },
    {
      corsOrigins: config.GATEWAY_CORS_ORIGINS,
      bodyLimitBytes: config.GATEWAY_BODY_LIMIT_BYTES,
      secureCookies: config.GATEWAY_SECURE_COOKIES,
      trustedProxies: config.GATEWAY_TRUSTED_PROXIES,
      maxInFlight: config.GATEWAY_MAX_IN_FLIGHT,
      webRoot,
      logger,
      onRequest: (route, status, seconds) => requests.observe({ route, status: String(status) }, seconds),
    },
  );
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await listen(server, config.GATEWAY_PORT, config.GATEWAY_HOST);
  const port = (server.address() as AddressInfo).port;
  // Live streams never end by themselves: end them first, or closing the server waits for them.
  shutdown.add('intake', 'end live streams', () => streams.closeAll());
  shutdown.add(
    'intake',
    'stop accepting HTTP',
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  );
  shutdown.add('connections', 'close remaining HTTP connections', () => server.closeAllConnections());
  shutdown.add('connections', 'close gRPC clients', () => backends.close());
  readiness.add('http', async () => server.listening);
  readiness.watch(5000);
  logger.info({ port, opsPort: defaults.ops.port }, 'gateway ready');
  return { ...defaults, port, url: `http://${config.GATEWAY_HOST}:${port}` };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
}
