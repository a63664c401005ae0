import { type ConfigError, grpcTransport } from '@conveyor/platform/grpc-client';
import { type Client, connectivityState, type ServiceError } from '@grpc/grpc-js';
import { CliError } from './cli-error.ts';

// What every gRPC call of the CLI shares, without the generated clients (`status` needs none of them).

/**
 * Plaintext, or TLS when GRPC_TLS_CA_FILE names the CA of services that serve TLS (docs/security.md);
 * read once, at the first client.
 */
let channel: ReturnType<typeof grpcTransport>['client'] | undefined;
export const credentials = () => {
  try {
    channel ??= grpcTransport({ GRPC_TLS_CA_FILE: process.env.GRPC_TLS_CA_FILE || undefined }).client;
  } catch (error) {
    // Says which variable and file, not a stack: e.g. "GRPC_TLS_CA_FILE: cannot read /x: ENOENT".
    throw new CliError(((error as ConfigError).problems ?? [(error as Error).message]).join('; '));
  }
  return channel;
};

/** Every call's deadline, unless the call names a longer one. */
export const DEADLINE_MS = 5000;

/** Whether the client holds an established connection (tells refusals from server answers). */
export function isConnected(client: Client): boolean {
  return client.getChannel().getConnectivityState(false) === connectivityState.READY;
}

export function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === 'number';
}
