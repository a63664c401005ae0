import { createServer } from 'node:net';
import type { PlannedService } from './launcher-config.ts';
import { envPrefix } from './service-table.ts';

/** Whether 127.0.0.1:`port` can be bound right now. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The port in env variable `name`, else `fallback`; throws when it is not a TCP port. */
export function portFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${name} is ${JSON.stringify(raw)}: expected a TCP port (1-65535)`);
  }
  return port;
}

/** Fails naming the variable to change when a service's port is already taken. */
export async function checkServicePorts(services: readonly PlannedService[]): Promise<void> {
  const problems: string[] = [];
  for (const { entry, grpcPort, opsPort } of services) {
    const prefix = envPrefix(entry.name);
    if (!(await isPortFree(grpcPort)))
      problems.push(
        entry.http
          ? `${entry.name} HTTP port ${grpcPort} (${prefix}_PORT)`
          : `${entry.name} gRPC port ${grpcPort} (${prefix}_GRPC_PORT)`,
      );
    if (!(await isPortFree(opsPort))) problems.push(`${entry.name} ops port ${opsPort} (${prefix}_OPS_PORT)`);
  }
  if (problems.length > 0) {
    throw new Error(
      `these ports are already in use on 127.0.0.1: ${problems.join(', ')}; ` +
        'stop what holds them or choose other ports with the variables named',
    );
  }
}
