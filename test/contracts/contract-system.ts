import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { migrate } from '@conveyor/platform';
import { bearerMetadata } from '@conveyor/platform/auth';
import { type SmtpSink, testDatabase, testNats, testSmtpSink } from '@conveyor/stack';
import * as grpc from '@grpc/grpc-js';
import { migrations as notificationMigrations } from '../../services/notifications/src/adapters/migrations.ts';
import { migrations as orderMigrations } from '../../services/orders/src/adapters/migrations.ts';
import { migrations as userMigrations } from '../../services/users/src/adapters/migrations.ts';
import { call, independentClient } from '../support/independent-clients.ts';
import { authEnvFor, type ServiceUnderTest, startServiceProcess } from '../support/service-processes.ts';

export const CONTRACT_ADMIN_EMAIL = 'admin@conveyor.test';
export const SERVICE_SECRET = 'contract-service-secret-0123456789';

/** The three services as processes on a private database and nats-server, reached through proto-loader clients. */
export interface ContractSystem {
  users: grpc.Client;
  orders: grpc.Client;
  notifications: grpc.Client;
  services: Record<'users' | 'orders' | 'notifications', ServiceUnderTest>;
  smtp: SmtpSink;
  stop(): Promise<void>;
}

export async function startContractSystem(prefix: string): Promise<ContractSystem> {
  const db = await testDatabase(prefix);
  const nats = await testNats();
  const smtp = await testSmtpSink();
  const started: ServiceUnderTest[] = [];
  const clients: grpc.Client[] = [];
  const stop = async () => {
    for (const c of clients) c.close();
    await Promise.all(started.map((s) => s.process.stop(10_000)));
    await smtp.close();
    await nats.stop();
    await db.drop();
  };
  try {
    await migrate({ url: db.url, schema: 'users', migrations: userMigrations });
    await migrate({ url: db.url, schema: 'orders', migrations: orderMigrations });
    await migrate({ url: db.url, schema: 'notifications', migrations: notificationMigrations });
    const common = {
      DATABASE_URL: db.url,
      DATABASE_POOL_SIZE: '3',
      NATS_URL: nats.url,
    };
    // Each service is recorded as soon as it runs, so a failure to start another still stops it.
    const track = async (starting: Promise<ServiceUnderTest>) => {
      const service = await starting;
      started.push(service);
      return service;
    };
    const auth = { adminEmail: CONTRACT_ADMIN_EMAIL, serviceSecret: SERVICE_SECRET };
    const users = await track(startServiceProcess('users', { ...common, ...authEnvFor('users', auth) }));
    const withUsers = { ...common, USERS_ADDR: `127.0.0.1:${users.grpcPort}` };
    const starts = await Promise.allSettled([
      track(startServiceProcess('orders', withUsers)),
      track(
        startServiceProcess('notifications', {
          ...withUsers,
          ...authEnvFor('notifications', auth),
          SMTP_URL: `smtp://127.0.0.1:${smtp.smtpPort}?tls=off`,
          CONSUMER_BACKOFF_MS: '200,500',
        }),
      ),
    ]);
    for (const start of starts) if (start.status === 'rejected') throw start.reason;
    const [orders, notifications] = starts.map(
      (r) => (r as PromiseFulfilledResult<ServiceUnderTest>).value,
    ) as [ServiceUnderTest, ServiceUnderTest];
    const client = (proto: string, service: string, port: number) => {
      const c = independentClient(proto, service, `127.0.0.1:${port}`);
      clients.push(c);
      return c;
    };
    return {
      users: client('conveyor/users/v1/users.proto', 'conveyor.users.v1.UserService', users.grpcPort),
      orders: client('conveyor/orders/v1/orders.proto', 'conveyor.orders.v1.OrderService', orders.grpcPort),
      notifications: client(
        'conveyor/notifications/v1/notifications.proto',
        'conveyor.notifications.v1.NotificationService',
        notifications.grpcPort,
      ),
      services: { users, orders, notifications },
      smtp,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A unary call with optional metadata and a 5 s deadline. */
export function rpc<Res = Record<string, unknown>>(
  client: grpc.Client,
  method: string,
  request: object,
  metadata: grpc.Metadata = new grpc.Metadata(),
): Promise<Res> {
  return call<Res>(client, method, request, 5000, metadata);
}

export function bearer(token: string): grpc.Metadata {
  return bearerMetadata(new grpc.Metadata(), token);
}

/** Asserts the call fails with `code` and a message matching `message` (e.g. naming the field). */
export async function rejects(
  call: Promise<unknown>,
  code: grpc.status,
  message?: RegExp,
): Promise<grpc.ServiceError> {
  try {
    await call;
  } catch (error) {
    const e = error as grpc.ServiceError;
    assert.equal(
      grpc.status[e.code],
      grpc.status[code],
      `expected ${grpc.status[code]}, got ${grpc.status[e.code]}: ${e.details}`,
    );
    if (message) assert.match(e.details, message);
    return e;
  }
  assert.fail(`expected ${grpc.status[code]}, the call succeeded`);
}

export interface Customer {
  id: string;
  email: string;
  password: string;
  token: string;
  metadata: grpc.Metadata;
}

/** CreateUser + Authenticate through the public API. */
export async function signUp(
  system: ContractSystem,
  email = `c-${randomUUID()}@example.com`,
): Promise<Customer> {
  const password = `pw-${randomUUID()}`;
  await rpc(system.users, 'CreateUser', { email, name: 'Contract Customer', password });
  const { access_token, user } = await rpc<{ access_token: string; user: { id: string } }>(
    system.users,
    'Authenticate',
    { email, password },
  );
  return {
    id: user.id,
    email: email.trim().toLowerCase(),
    password,
    token: access_token,
    metadata: bearer(access_token),
  };
}

/** An admin: signs up with the configured admin email (once per system) and logs in. */
export async function signUpAdmin(system: ContractSystem): Promise<Customer> {
  return signUp(system, CONTRACT_ADMIN_EMAIL);
}

export function timestampMs(t: { seconds: string | number; nanos: number } | null | undefined): number {
  assert.ok(t, 'timestamp is set');
  return Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6);
}
