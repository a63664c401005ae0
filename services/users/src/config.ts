import { env, loadConfig, serviceEnv } from '@conveyor/platform';

export function loadUsersConfig(source: Record<string, string | undefined> = process.env) {
  return loadConfig(
    {
      ...serviceEnv,
      DATABASE_URL: env.url(['postgres', 'postgresql']),
      DATABASE_SCHEMA: env.identifier('users'),
      NATS_URL: env.url(['nats'], 'nats://127.0.0.1:4222'),
      GRPC_PORT: env.port(50051),
      OPS_PORT: env.port(9101),
    },
    source,
  );
}

export type UsersConfig = ReturnType<typeof loadUsersConfig>;
