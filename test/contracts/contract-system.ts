import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { bearerMetadata } from '@conveyor/platform/auth';
import { type ServiceUnderTest, type SmtpSink, type System, startSystem } from '@conveyor/stack';
import { apiClient, call } from '@conveyor/stack/testing';
import * as grpc from '@grpc/grpc-js';

export const SERVICE_SECRET = 'contract-service-secret-0123456789';

/** The three services as processes on a private database and nats-server, reached through proto-loader clients. */
export interface ContractSystem {
  users: grpc.Client;
  orders: grpc.Client;
  notifications: grpc.Client;
  services: Record<'users' | 'orders' | 'notifications', ServiceUnderTest>;
  smtp: SmtpSink;
  /** The whole system underneath. */
  system: System;
  stop(): Promise<void>;
}

export async function startContractSystem(prefix: string): Promise<ContractSystem> {
  const system = await startSystem({
    name: prefix,
    services: ['users', 'orders', 'notifications'],
    env: { all: { DATABASE_POOL_SIZE: '3' }, notifications: { CONSUMER_BACKOFF_MS: '200,500' } },
    auth: { serviceSecret: SERVICE_SECRET },
  });
  const clients = {
    users: apiClient('users', system.address('users')),
    orders: apiClient('orders', system.address('orders')),
    notifications: apiClient('notifications', system.address('notifications')),
  };
  return {
    ...clients,
    services: {
      users: system.service('users'),
      orders: system.service('orders'),
      notifications: system.service('notifications'),
    },
    smtp: system.smtp,
    system,
    async stop() {
      for (const c of Object.values(clients)) c.close();
      await system.stop();
    },
  };
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
  return logIn(system, email, password);
}

/** The admin the system's operator made (signing up never grants a role), logged in. */
export function signInAdmin(system: ContractSystem): Promise<Customer> {
  return logIn(system, system.system.auth.adminEmail, system.system.auth.adminPassword);
}

async function logIn(system: ContractSystem, email: string, password: string): Promise<Customer> {
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

export function timestampMs(t: { seconds: string | number; nanos: number } | null | undefined): number {
  assert.ok(t, 'timestamp is set');
  return Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6);
}
