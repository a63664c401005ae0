import type { consumersV1 } from '@conveyor/contracts/grpc';
import { type Client, type ServiceError, status } from '@grpc/grpc-js';
import type { Endpoints } from './addresses.ts';
import { CliError, exitCodes } from './cli-error.ts';
import {
  consumersClient,
  DEADLINE_MS,
  isConnected,
  notificationsClient,
  ordersClient,
  usersClient,
} from './grpc-clients.ts';
import type { ConsumingService } from './option-values.ts';

const rejections = new Set<number>([
  status.INVALID_ARGUMENT,
  status.ALREADY_EXISTS,
  status.NOT_FOUND,
  status.FAILED_PRECONDITION,
  status.PERMISSION_DENIED,
  status.UNAUTHENTICATED,
]);

export function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === 'number';
}

export function notReachable(service: string, address: string): CliError {
  return new CliError(
    `the ${service} service is not reachable at ${address} — start the stack with ./bin/conveyor up`,
  );
}

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
    return notReachable(service, address);
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

/** Runs `call` with `client`, maps its failure with grpcFailure and closes the client. */
export async function callService<C extends Client, T>(
  service: string,
  address: string,
  client: C,
  call: (client: C) => Promise<T>,
): Promise<T> {
  try {
    return await call(client);
  } catch (error) {
    throw grpcFailure(error, service, address, isConnected(client));
  } finally {
    client.close();
  }
}

const clients = { users: usersClient, orders: ordersClient, notifications: notificationsClient };
type ClientOf<S extends keyof typeof clients> = ReturnType<(typeof clients)[S]>;

/** callService on `service` as the logged-in user: every call sends the saved access token. */
export function asUser<S extends keyof typeof clients, T>(
  endpoints: Endpoints,
  service: S,
  work: (client: ClientOf<S>) => Promise<T>,
): Promise<T> {
  const { grpc } = endpoints.target(service);
  return callService(service, grpc, clients[service](grpc, endpoints.accessToken()) as ClientOf<S>, work);
}

/** callService on `service` without a login (signing up, logging in, a password reset, the catalog). */
export function anonymously<S extends keyof typeof clients, T>(
  endpoints: Endpoints,
  service: S,
  work: (client: ClientOf<S>) => Promise<T>,
): Promise<T> {
  const { grpc } = endpoints.target(service);
  return callService(service, grpc, clients[service](grpc) as ClientOf<S>, work);
}

/** callService on `service`'s ConsumerService, as the logged-in user. */
export function withConsumers<T>(
  endpoints: Endpoints,
  service: ConsumingService,
  work: (client: consumersV1.ConsumerServiceClient) => Promise<T>,
): Promise<T> {
  const { grpc } = endpoints.target(service);
  return callService(service, grpc, consumersClient(grpc, endpoints.accessToken()), work);
}
