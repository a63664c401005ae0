import { callUnary } from '@conveyor/platform/grpc-client';
import {
  type CallOptions,
  type Client,
  type ClientUnaryCall,
  InterceptingCall,
  type Interceptor,
  type Metadata,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import type { Endpoints } from './addresses.ts';
import { CliError, exitCodes } from './cli-error.ts';
import { credentials, DEADLINE_MS, isConnected, isServiceError } from './grpc-channel.ts';
import type { ConsumingService } from './option-values.ts';

/** Adds `authorization: Bearer <token>` to every call of a client. */
function bearer(token: string | undefined): { interceptors?: Interceptor[] } {
  if (!token) return {};
  const interceptor: Interceptor = (options, next) =>
    new InterceptingCall(next(options), {
      start(metadata, listener, start) {
        metadata.set('authorization', `Bearer ${token}`);
        start(metadata, listener);
      },
    });
  return { interceptors: [interceptor] };
}

// Each API's generated code loads when a command calls it: a command loads one, not all four.
const clients = {
  users: async () => (await import('@conveyor/contracts/grpc/users')).UserServiceClient,
  orders: async () => (await import('@conveyor/contracts/grpc/orders')).OrderServiceClient,
  notifications: async () =>
    (await import('@conveyor/contracts/grpc/notifications')).NotificationServiceClient,
  consumers: async () => (await import('@conveyor/contracts/grpc/consumers')).ConsumerServiceClient,
};
type ClientOf<K extends keyof typeof clients> = InstanceType<Awaited<ReturnType<(typeof clients)[K]>>>;

/** A client of one of the services' APIs at `address`; with `token`, every call sends it. */
export async function newClient<K extends keyof typeof clients>(
  kind: K,
  address: string,
  token?: string,
): Promise<ClientOf<K>> {
  const Client = await clients[kind]();
  return new Client(address, credentials(), bearer(token)) as ClientOf<K>;
}

const rejections = new Set<number>([
  status.INVALID_ARGUMENT,
  status.ALREADY_EXISTS,
  status.NOT_FOUND,
  status.FAILED_PRECONDITION,
  status.PERMISSION_DENIED,
  status.UNAUTHENTICATED,
]);

/**
 * Turns a failed call into what the user reads: unreachable (no connection) → exit 1;
 * the service's verdict on the request (INVALID_ARGUMENT, ALREADY_EXISTS, NOT_FOUND,
 * FAILED_PRECONDITION) → status name and the server's message, exit 2; anything else
 * (ABORTED included: retry) → exit 1. `deadlineMs` is the call's deadline, for the message.
 */
export function grpcFailure(
  error: unknown,
  service: string,
  address: string,
  connected: boolean,
  deadlineMs: number = DEADLINE_MS,
): CliError {
  if (!isServiceError(error)) return new CliError(`calling the ${service} service failed: ${String(error)}`);
  const name = status[error.code] ?? `status ${error.code}`;
  if (!connected && (error.code === status.UNAVAILABLE || error.code === status.DEADLINE_EXCEEDED)) {
    return new CliError(
      `the ${service} service is not reachable at ${address} — start the stack with ./bin/conveyor up`,
    );
  }
  if (error.code === status.DEADLINE_EXCEEDED) {
    return new CliError(
      `the ${service} service at ${address} did not answer within ${deadlineMs / 1000} s (${name})`,
    );
  }
  const exitCode = rejections.has(error.code) ? exitCodes.rejected : exitCodes.failure;
  if (error.code === status.UNAUTHENTICATED && service !== 'users')
    return new CliError(
      `${name}: ${error.details || error.message} — log in again: ./bin/conveyor login --email EMAIL --password PASSWORD`,
      exitCode,
    );
  return new CliError(`${name}: ${error.details || error.message}`, exitCode);
}

/** A generated client's unary method (its last overload: with metadata and call options). */
type Unary<F> = F extends (
  request: infer Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: infer Res) => void,
) => ClientUnaryCall
  ? { request: Req; response: Res }
  : never;
/** The names of a client's unary methods. */
type MethodOf<C> = { [K in keyof C]: [Unary<C[K]>] extends [never] ? never : K }[keyof C];
type Req<C, M extends keyof C> = Unary<C[M]>['request'];
type Res<C, M extends keyof C> = Unary<C[M]>['response'];

/**
 * Calls `method` with `request` and a deadline, maps a failure with grpcFailure, closes the
 * client. `service` and `address` name the service in messages.
 */
async function callOnce<C extends Client, M extends MethodOf<C>>(
  service: string,
  address: string,
  client: C,
  method: M,
  request: Req<C, M>,
  deadlineMs: number,
): Promise<Res<C, M>> {
  try {
    // The method is one of the client's unary methods, its request and response Req and Res.
    return (await callUnary(client, client[method] as never, request, { deadlineMs })) as Res<C, M>;
  } catch (error) {
    throw grpcFailure(error, service, address, isConnected(client), deadlineMs);
  } finally {
    client.close();
  }
}

type Api = 'users' | 'orders' | 'notifications';

/** One call of `service`'s `method` as the logged-in user: it sends the saved access token. */
export async function asUser<S extends Api, M extends MethodOf<ClientOf<S>>>(
  endpoints: Endpoints,
  service: S,
  method: M,
  request: Req<ClientOf<S>, M>,
  deadlineMs = DEADLINE_MS,
): Promise<Res<ClientOf<S>, M>> {
  const { grpc } = endpoints.target(service);
  const client = await newClient(service, grpc, endpoints.accessToken());
  return callOnce(service, grpc, client as ClientOf<S>, method, request, deadlineMs);
}

/** One call without a login (signing up, logging in, a password reset, the catalog). */
export async function anonymously<S extends Api, M extends MethodOf<ClientOf<S>>>(
  endpoints: Endpoints,
  service: S,
  method: M,
  request: Req<ClientOf<S>, M>,
): Promise<Res<ClientOf<S>, M>> {
  const { grpc } = endpoints.target(service);
  const client = await newClient(service, grpc);
  return callOnce(service, grpc, client as ClientOf<S>, method, request, DEADLINE_MS);
}

type Consumers = ClientOf<'consumers'>;

/** One call of `service`'s ConsumerService, as the logged-in user. */
export async function asConsumers<M extends MethodOf<Consumers>>(
  endpoints: Endpoints,
  service: ConsumingService,
  method: M,
  request: Req<Consumers, M>,
  deadlineMs = DEADLINE_MS,
): Promise<Res<Consumers, M>> {
  const { grpc } = endpoints.target(service);
  const client = await newClient('consumers', grpc, endpoints.accessToken());
  return callOnce(service, grpc, client, method, request, deadlineMs);
}
