import { consumersV1, notificationsV1, ordersV1, usersV1 } from '@conveyor/contracts/grpc';
import { type ConfigError, callUnary, grpcTransport } from '@conveyor/platform/grpc-client';
import {
  type CallOptions,
  type Client,
  connectivityState,
  InterceptingCall,
  type Interceptor,
  type Metadata,
  makeGenericClientConstructor,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { CliError } from './cli-error.ts';

/**
 * Plaintext, or TLS when GRPC_TLS_CA_FILE names the CA of services that serve TLS (docs/security.md);
 * read once, at the first client.
 */
let channel: ReturnType<typeof grpcTransport>['client'] | undefined;
const credentials = () => {
  try {
    channel ??= grpcTransport({ GRPC_TLS_CA_FILE: process.env.GRPC_TLS_CA_FILE || undefined }).client;
  } catch (error) {
    // Says which variable and file, not a stack: e.g. "GRPC_TLS_CA_FILE: cannot read /x: ENOENT".
    throw new CliError(((error as ConfigError).problems ?? [(error as Error).message]).join('; '));
  }
  return channel;
};

/** Every call's deadline. */
export const DEADLINE_MS = 5000;

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

export function usersClient(address: string, token?: string): usersV1.UserServiceClient {
  return new usersV1.UserServiceClient(address, credentials(), bearer(token));
}

export function ordersClient(address: string, token?: string): ordersV1.OrderServiceClient {
  return new ordersV1.OrderServiceClient(address, credentials(), bearer(token));
}

export function notificationsClient(
  address: string,
  token?: string,
): notificationsV1.NotificationServiceClient {
  return new notificationsV1.NotificationServiceClient(address, credentials(), bearer(token));
}

export function consumersClient(address: string, token?: string): consumersV1.ConsumerServiceClient {
  return new consumersV1.ConsumerServiceClient(address, credentials(), bearer(token));
}

interface HealthClient extends Client {
  Check(
    request: { service: string },
    metadata: Metadata,
    options: Partial<CallOptions>,
    callback: (error: ServiceError | null, response: { status: string }) => void,
  ): unknown;
}

const HealthClientConstructor = makeGenericClientConstructor(
  healthService as unknown as ServiceDefinition,
  'grpc.health.v1.Health',
);

export function healthClient(address: string): HealthClient {
  return new HealthClientConstructor(address, credentials()) as unknown as HealthClient;
}

/** grpc.health.v1 Check of the whole server (service ""): SERVING, NOT_SERVING, ... */
export async function checkHealth(client: HealthClient): Promise<string> {
  const response = await callUnary(client, client.Check, { service: '' }, { deadlineMs: DEADLINE_MS });
  return response.status;
}

/** Whether the client holds an established connection (tells refusals from server answers). */
export function isConnected(client: Client): boolean {
  return client.getChannel().getConnectivityState(false) === connectivityState.READY;
}
