import { type ServiceUnderTest, type System, startSystem } from '@conveyor/stack';

/** Every service and the gateway as processes over a private database, NATS and SMTP sink. */
export interface GatewayStack extends System {
  users: ServiceUnderTest;
  orders: ServiceUnderTest;
  notifications: ServiceUnderTest;
  gateway: ServiceUnderTest;
  /** http://127.0.0.1:<port> of the gateway. */
  url: string;
}

/** `gatewayEnv` is for the gateway only; `everyEnv` for every process (e.g. where to export spans). */
export async function startGatewayStack(
  prefix: string,
  gatewayEnv: Record<string, string> = {},
  everyEnv: Record<string, string> = {},
): Promise<GatewayStack> {
  const pool = { DATABASE_POOL_SIZE: '3' };
  const system = await startSystem({
    name: prefix,
    services: ['users', 'orders', 'notifications', 'gateway'],
    env: {
      all: everyEnv,
      users: { ...pool, USERS_ARGON2_MEMORY_KIB: '8192', USERS_ARGON2_PASSES: '1' },
      // Few, short attempts: a projection a test refuses (blocked-sequences.ts) is dead in about a second.
      orders: { ...pool, PROJECTION_MAX_DELIVER: '3', PROJECTION_BACKOFF_MS: '100,200' },
      notifications: { ...pool, CONSUMER_BACKOFF_MS: '200,500,1000' },
      gateway: {
        GATEWAY_SSE_INTERVAL_MS: '300',
        // Every test signs up and logs in from 127.0.0.1: room for them (edge-limits.int.test
        // checks the limits themselves).
        GATEWAY_SIGNUPS_PER_IP_PER_HOUR: '10000',
        GATEWAY_LOGINS_PER_IP_PER_MINUTE: '10000',
        GATEWAY_LOGINS_PER_ACCOUNT_PER_MINUTE: '10000',
        ...gatewayEnv,
      },
    },
  });
  const gateway = system.service('gateway');
  return Object.assign(system, {
    users: system.service('users'),
    orders: system.service('orders'),
    notifications: system.service('notifications'),
    gateway,
    url: `http://127.0.0.1:${gateway.grpcPort}`,
  });
}
