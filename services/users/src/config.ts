import { env, loadConfig, serviceEnv } from '@conveyor/platform';

export function loadUsersConfig(source: Record<string, string | undefined> = process.env) {
  return loadConfig(
    {
      ...serviceEnv,
      DATABASE_URL: env.url(['postgres', 'postgresql']),
      DATABASE_SCHEMA: env.identifier('users'),
      NATS_URL: env.urlList(['nats'], 'nats://127.0.0.1:4222'),
      NATS_STREAM_REPLICAS: env.port(1).refine((n) => n >= 1 && n <= 5, 'expected 1 to 5 replicas'),
      GRPC_PORT: env.port(50051),
      OPS_PORT: env.port(9101),
    },
    source,
  );
}

export type UsersConfig = ReturnType<typeof loadUsersConfig>;
