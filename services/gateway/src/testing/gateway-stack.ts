import { migrate } from '@conveyor/platform';
import {
  type SmtpSink,
  type TestDatabase,
  type TestNats,
  testDatabase,
  testNats,
  testSmtpSink,
} from '@conveyor/stack';
import { type ServiceUnderTest, startServiceProcess } from '../../../../test/support/service-processes.ts';
import { migrations as notificationMigrations } from '../../../notifications/src/adapters/migrations.ts';
import { migrations as orderMigrations } from '../../../orders/src/adapters/migrations.ts';
import { migrations as userMigrations } from '../../../users/src/adapters/migrations.ts';

/** Every service and the gateway as processes over a private database, NATS and SMTP sink. */
export interface GatewayStack {
  db: TestDatabase;
  nats: TestNats;
  smtp: SmtpSink;
  users: ServiceUnderTest;
  orders: ServiceUnderTest;
  notifications: ServiceUnderTest;
  gateway: ServiceUnderTest;
  /** http://127.0.0.1:<port> of the gateway. */
  url: string;
  stop(): Promise<void>;
}

/** `gatewayEnv` is for the gateway only; `everyEnv` for every process (e.g. where to export spans). */
export async function startGatewayStack(
  prefix: string,
  gatewayEnv: Record<string, string> = {},
  everyEnv: Record<string, string> = {},
): Promise<GatewayStack> {
  const started: ServiceUnderTest[] = [];
  const db = await testDatabase(prefix);
  const nats = await testNats();
  const smtp = await testSmtpSink();
  const stop = async () => {
    await Promise.all(started.map((s) => s.process.stop(10_000)));
    await smtp.close();
    await nats.stop();
    await db.drop();
  };
  try {
    for (const [schema, migrations] of [
      ['users', userMigrations],
      ['orders', orderMigrations],
      ['notifications', notificationMigrations],
    ] as const) {
      await migrate({ url: db.url, schema, migrations });
    }
    const common = { ...everyEnv, DATABASE_URL: db.url, NATS_URL: nats.url, DATABASE_POOL_SIZE: '3' };
    const users = await startServiceProcess('users', {
      ...common,
      USERS_ARGON2_MEMORY_KIB: '8192',
      USERS_ARGON2_PASSES: '1',
    });
    started.push(users);
    const usersAddr = `127.0.0.1:${users.grpcPort}`;
    const both = await Promise.allSettled([
      startServiceProcess('orders', { ...common, USERS_ADDR: usersAddr }),
      startServiceProcess('notifications', {
        ...common,
        USERS_ADDR: usersAddr,
        SMTP_URL: `smtp://127.0.0.1:${smtp.smtpPort}?tls=off`,
        CONSUMER_BACKOFF_MS: '200,500,1000',
      }),
    ]);
    for (const result of both) if (result.status === 'fulfilled') started.push(result.value);
    const failed = both.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const [orders, notifications] = started.slice(1) as [ServiceUnderTest, ServiceUnderTest];
    const gateway = await startServiceProcess('gateway', {
      ...everyEnv,
      USERS_ADDR: usersAddr,
      ORDERS_ADDR: `127.0.0.1:${orders.grpcPort}`,
      NOTIFICATIONS_ADDR: `127.0.0.1:${notifications.grpcPort}`,
      USERS_OPS_URL: `http://127.0.0.1:${users.opsPort}`,
      ORDERS_OPS_URL: `http://127.0.0.1:${orders.opsPort}`,
      NOTIFICATIONS_OPS_URL: `http://127.0.0.1:${notifications.opsPort}`,
      GATEWAY_SSE_INTERVAL_MS: '300',
      ...gatewayEnv,
    });
    started.push(gateway);
    return {
      db,
      nats,
      smtp,
      users,
      orders,
      notifications,
      gateway,
      url: `http://127.0.0.1:${gateway.grpcPort}`,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
