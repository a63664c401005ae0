import { consumersV1, notificationsV1, ordersV1, usersV1 } from '@conveyor/contracts';
import { callUnary, traceparentOf } from '@conveyor/platform';
import { Downstream } from '@conveyor/platform/resilience';
import {
  type CallOptions,
  type ChannelCredentials,
  type Client,
  type ClientReadableStream,
  Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export type BackendName = 'users' | 'orders' | 'notifications';
/** The services that consume events and serve ConsumerService beside their own (ADR 0031). */
export type ConsumerBackend = 'orders' | 'notifications';

export type Unary<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

export interface CallOptionsIn {
  /** The caller's access token, forwarded as `authorization: Bearer`. */
  token?: string;
  /** Safe to retry (reads); commands are sent once. */
  idempotent: boolean;
}

/**
 * gRPC clients of the three services, and of the ConsumerService orders and notifications serve
 * beside their own. Every call goes through that service's resilience pipeline (deadline →
 * circuit breaker → retry, retries for idempotent calls only); the caller's token travels as
 * metadata, so each service decides access itself.
 */
export class GrpcBackends {
  readonly users: usersV1.UserServiceClient;
  readonly orders: ordersV1.OrderServiceClient;
  readonly notifications: notificationsV1.NotificationServiceClient;
  readonly consumers: Record<ConsumerBackend, consumersV1.ConsumerServiceClient>;
  readonly #downstreams: Record<BackendName, Downstream>;
  /**
   * Log-ins and sign-ups have a breaker of their own (issue 21): users refuses a flood of them
   * (its password pool), and that must not open the breaker every signed-in request's token
   * check goes through.
   */
  readonly #signIns: Downstream;
  readonly #signInMethods: ReadonlySet<unknown>;

  constructor(options: {
    addresses: Record<BackendName, string>;
    deadlineMs: number;
    logger: Logger;
    registry?: Registry;
    /** TLS or plaintext to the services (GRPC_TLS_CA_FILE). */
    credentials: ChannelCredentials;
  }) {
    const deps = { logger: options.logger, ...(options.registry ? { registry: options.registry } : {}) };
    const policy = { deadlineMs: options.deadlineMs };
    this.#downstreams = {
      users: new Downstream('users', policy, deps),
      orders: new Downstream('orders', policy, deps),
      notifications: new Downstream('notifications', policy, deps),
    };
    this.#signIns = new Downstream('users-sign-in', policy, deps);
    this.users = new usersV1.UserServiceClient(options.addresses.users, options.credentials);
    this.#signInMethods = new Set([this.users.authenticate, this.users.createUser]);
    this.orders = new ordersV1.OrderServiceClient(options.addresses.orders, options.credentials);
    this.notifications = new notificationsV1.NotificationServiceClient(
      options.addresses.notifications,
      options.credentials,
    );
    this.consumers = {
      orders: new consumersV1.ConsumerServiceClient(options.addresses.orders, options.credentials),
      notifications: new consumersV1.ConsumerServiceClient(
        options.addresses.notifications,
        options.credentials,
      ),
    };
  }

  call<Req, Res>(
    backend: BackendName,
    method: Unary<Req, Res>,
    request: Req,
    options: CallOptionsIn,
  ): Promise<Res> {
    const downstream =
      backend === 'users' && this.#signInMethods.has(method) ? this.#signIns : this.#downstreams[backend];
    return this.#call(downstream, this[backend], method, request, options);
  }

  /**
   * A ConsumerService call to `backend`, through that service's pipeline (its breaker opens for
   * both of its services: they are one process). `method` picks the RPC from the client.
   */
  callConsumers<Req, Res>(
    backend: ConsumerBackend,
    method: (client: consumersV1.ConsumerServiceClient) => Unary<Req, Res>,
    request: Req,
    options: CallOptionsIn,
  ): Promise<Res> {
    const client = this.consumers[backend];
    return this.#call(this.#downstreams[backend], client, method(client), request, options);
  }

  #call<Req, Res>(
    downstream: Downstream,
    client: Client,
    method: Unary<Req, Res>,
    request: Req,
    options: CallOptionsIn,
  ): Promise<Res> {
    return downstream.call(
      // Through callUnary: a CLIENT span per attempt, `traceparent` to the backend, rpc_client_* metrics.
      ({ deadline }) =>
        callUnary(client, method, request, {
          deadlineMs: Math.max(1, deadline.getTime() - Date.now()),
          metadata: metadataFor(options.token),
        }),
      { idempotent: options.idempotent },
    );
  }

  /**
   * A server stream (projection rebuild) with a long deadline of its own. Not through the
   * pipeline (a stream is not retried), but in the request's trace: orders' span is its child.
   */
  rebuildProjections(
    token: string,
    deadlineMs: number,
  ): ClientReadableStream<ordersV1.RebuildProjectionsResponse> {
    const metadata = metadataFor(token);
    const traceparent = traceparentOf();
    if (traceparent) metadata.set('traceparent', traceparent);
    return this.orders.rebuildProjections({}, metadata, { deadline: Date.now() + deadlineMs });
  }

  close(): void {
    this.users.close();
    this.orders.close();
    this.notifications.close();
    this.consumers.orders.close();
    this.consumers.notifications.close();
  }
}

function metadataFor(token: string | undefined): Metadata {
  const metadata = new Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}
