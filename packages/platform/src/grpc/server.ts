import { Server as GrpcServer, type Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Registry } from 'prom-client';
import type { Readiness } from '../lifecycle/readiness.ts';
import type { InFlightLimit } from './in-flight-limit.ts';
import { guardedImplementation, tolerantDefinition } from './request-guard.ts';
import { instrumentService } from './server-instrumentation.ts';

export interface GrpcService {
  // biome-ignore lint/suspicious/noExplicitAny: grpc-js service definitions are untyped at this level.
  definition: ServiceDefinition<any>;
  // biome-ignore lint/suspicious/noExplicitAny: implementations are checked where they are written.
  implementation: any;
  /** Fully qualified name, e.g. conveyor.users.v1.UserService, for health. */
  name: string;
}

/**
 * A gRPC server with the service's handlers, `grpc.health.v1` (mirroring
 * readiness: NOT_SERVING while a dependency is down or during shutdown) and
 * server reflection for the given proto files. Every service's handlers are
 * traced and measured (rpc_server_* metrics in `registry`, when given) and,
 * with `inFlightLimit`, admitted only while the process has room. Not
 * yet listening: call listenGrpc, from the entry point or from a test on port 0.
 */
export function createGrpcServer(options: {
  services: readonly GrpcService[];
  readiness: Readiness;
  protoRoot: string;
  protoFiles: readonly string[];
  registry?: Registry;
  /** Admission of unary calls (ADR 0017); none: unlimited. */
  inFlightLimit?: InFlightLimit;
}): Server {
  const server = new GrpcServer({
    // No request comes near it (strings are at most 8 KiB, see request-guard.ts); 64 calls in flight
    // of 4 MiB each would take a service past its memory budget (ADR 0016).
    'grpc.max_receive_message_length': 1024 * 1024,
    'grpc.keepalive_permit_without_calls': 1,
  });
  const limit = options.inFlightLimit;
  // biome-ignore lint/suspicious/noExplicitAny: as GrpcService.
  const admit = (definition: ServiceDefinition<any>, implementation: any) =>
    limit ? limit.wrap(definition, implementation) : implementation;
  for (const service of options.services) {
    server.addService(
      tolerantDefinition(service.definition),
      // Outermost the span and metrics, so refused calls are traced and counted; then admission,
      // before the request guard and the handler spend anything on a call that cannot run.
      instrumentService(
        service.definition,
        admit(service.definition, guardedImplementation(service.definition, service.implementation)),
        options.registry,
      ),
    );
  }

  const names = ['', ...options.services.map((s) => s.name)];
  const health = new HealthImplementation(Object.fromEntries(names.map((n) => [n, 'NOT_SERVING'])));
  options.readiness.onChange((ready) => {
    for (const name of names) health.setStatus(name, ready ? 'SERVING' : 'NOT_SERVING');
  });
  health.addToServer(server);

  const definitions = loadSync([...options.protoFiles], {
    includeDirs: [options.protoRoot],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
  });
  new ReflectionService(definitions).addToServer(server);
  return server;
}

/** Binds and starts; port 0 picks a free port. Returns the bound port. */
export function listenGrpc(
  server: Server,
  host: string,
  port: number,
  serverCredentials: ServerCredentials = ServerCredentials.createInsecure(),
): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, serverCredentials, (error, bound) => {
      if (error) reject(new Error(`cannot listen for gRPC on ${host}:${port}: ${error.message}`));
      else resolve(bound);
    });
  });
}

/** Stops accepting calls, lets calls in flight finish, forces after graceMs. */
export function stopGrpc(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
