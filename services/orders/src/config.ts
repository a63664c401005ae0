import { env, loadConfig, serviceEnv } from '@conveyor/platform';

export function loadOrdersConfig(source: Record<string, string | undefined> = process.env) {
  return loadConfig(
    {
      ...serviceEnv,
      DATABASE_URL: env.url(['postgres', 'postgresql']),
      DATABASE_SCHEMA: env.identifier('orders'),
      NATS_URL: env.url(['nats'], 'nats://127.0.0.1:4222'),
      GRPC_PORT: env.port(50052),
      OPS_PORT: env.port(9102),
    },
    source,
  );
}

export type OrdersConfig = ReturnType<typeof loadOrdersConfig>;
