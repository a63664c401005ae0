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
  /** CreateUser + Authenticate through the public API: a new customer, signed in. */
  signUp(email?: string): Promise<Customer>;
  /** The admin the system's operator made (signing up never grants a role), signed in. */
  signInAdmin(): Promise<Customer>;
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
  const contract: ContractSystem = {
    ...clients,
    services: {
      users: system.service('users'),
      orders: system.service('orders'),
      notifications: system.service('notifications'),
    },
    smtp: system.smtp,
    system,
    signUp: (email) => signUp(clients.users, email),
    signInAdmin: () => logIn(clients.users, system.auth.adminEmail, system.auth.adminPassword),
    async stop() {
      for (const c of Object.values(clients)) c.close();
      await system.stop();
    },
  };
  return contract;
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

export interface Customer {
  id: string;
  email: string;
  password: string;
  token: string;
  metadata: grpc.Metadata;
}

async function signUp(users: grpc.Client, email = `c-${randomUUID()}@example.com`): Promise<Customer> {
  const password = `pw-${randomUUID()}`;
  await rpc(users, 'CreateUser', { email, name: 'Contract Customer', password });
  return logIn(users, email, password);
}

async function logIn(users: grpc.Client, email: string, password: string): Promise<Customer> {
  const { access_token, user } = await rpc<{ access_token: string; user: { id: string } }>(
    users,
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
