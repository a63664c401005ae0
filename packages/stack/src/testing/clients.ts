import assert from 'node:assert/strict';
import { protoRoot } from '@conveyor/contracts';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/**
 * gRPC clients built from proto/ at run time with proto-loader, independent
 * of the generated code, so a test also proves the wire contract itself.
 */
export function independentClient(
  protoFile: string,
  service: string,
  address: string,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
): grpc.Client {
  const definition = loadSync(protoFile, {
    includeDirs: [protoRoot],
    keepCase: true,
    defaults: true,
    enums: String,
  });
  const loaded = grpc.loadPackageDefinition(definition);
  const Ctor = service
    .split('.')
    .reduce<unknown>(
      (o, key) => (o as Record<string, unknown>)[key],
      loaded,
    ) as grpc.ServiceClientConstructor;
  return new Ctor(address, credentials);
}

/** The services' public gRPC APIs, as proto/ declares them. */
export const serviceApis = {
  users: { proto: 'conveyor/users/v1/users.proto', service: 'conveyor.users.v1.UserService' },
  orders: { proto: 'conveyor/orders/v1/orders.proto', service: 'conveyor.orders.v1.OrderService' },
  notifications: {
    proto: 'conveyor/notifications/v1/notifications.proto',
    service: 'conveyor.notifications.v1.NotificationService',
  },
} as const;

export type ApiName = keyof typeof serviceApis;

/** An independent client of a service's public API at `address`; close() it after use. */
export function apiClient(
  name: ApiName,
  address: string,
  credentials?: grpc.ChannelCredentials,
): grpc.Client {
  const api = serviceApis[name];
  return independentClient(api.proto, api.service, address, credentials);
}

/** Promisified unary call with a deadline, and metadata when given (e.g. a bearer token). */
export function call<Res>(
  client: grpc.Client,
  method: string,
  request: object,
  deadlineMs = 5000,
  metadata: grpc.Metadata = new grpc.Metadata(),
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, (...a: unknown[]) => void>)[method];
    if (typeof fn !== 'function') {
      reject(new Error(`the proto has no method ${method}`));
      return;
    }
    fn.call(
      client,
      request,
      metadata,
      { deadline: Date.now() + deadlineMs },
      (error: grpc.ServiceError | null, response: Res) => (error ? reject(error) : resolve(response)),
    );
  });
}

/** A call with the signed-in caller's access token. */
export function callAs<Res>(
  who: { metadata(): grpc.Metadata },
  client: grpc.Client,
  method: string,
  request: object,
  deadlineMs = 5000,
): Promise<Res> {
  return call<Res>(client, method, request, deadlineMs, who.metadata());
}

/** Asserts the call fails with gRPC `code`, and with details matching `details` when given (e.g. naming the field). */
export async function rejectsWithCode(
  call: Promise<unknown>,
  code: grpc.status,
  details?: RegExp,
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
    if (details) assert.match(e.details, details);
    return e;
  }
  assert.fail(`expected ${grpc.status[code]}, the call succeeded`);
}

/** A google.protobuf.Timestamp as a proto-loader client receives it, in epoch milliseconds; asserts it is set. */
export function timestampMs(t: { seconds: string | number; nanos: number } | null | undefined): number {
  assert.ok(t, 'timestamp is set');
  return Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6);
}
