import { envPrefix, presentServices, serviceTable } from '@conveyor/stack/service-table';
import {
  conveyorHome,
  isAlive,
  readStackFile,
  type StackFile,
  stackFilePath,
} from '@conveyor/stack/stack-file';
import { findAccessToken, notLoggedIn } from './access-token.ts';
import { CliError } from './cli-error.ts';

export interface ServiceTarget {
  service: string;
  /** host:port */
  grpc: string;
  /** Base URL of the ops port. */
  ops: string;
}

export interface Endpoints {
  stackPath: string;
  /** The launcher's stack file, when there is one. */
  stack: StackFile | undefined;
  /** Whether the launcher that wrote it is still alive. */
  stackAlive: boolean;
  /** The gRPC services to look at: the stack's, else those present in the repository. */
  services: string[];
  /** The HTTP services (the gateway): base URL and ops URL; the stack's, else those present. */
  web: ServiceTarget[];
  mailWeb: string;
  /** The webhook sink's base URL (conveyor up's, 127.0.0.1:9999 by default). */
  webhookSink: string;
  target(service: string): ServiceTarget;
  /** The access token; a CliError telling how to log in when there is none. */
  accessToken(): string;
}

/**
 * Where things are: env overrides (<SERVICE>_ADDR, <SERVICE>_OPS_URL, GATEWAY_URL, SMTP_WEB_URL, WEBHOOK_SINK_URL) win,
 * then .conveyor/stack.json (CONVEYOR_HOME moves it), then the defaults of the service table.
 */
export async function loadEndpoints(env: NodeJS.ProcessEnv = process.env): Promise<Endpoints> {
  const stackPath = stackFilePath(conveyorHome(env));
  let stack: StackFile | undefined;
  try {
    stack = await readStackFile(stackPath);
  } catch (error) {
    throw new CliError(`cannot read ${stackPath}: ${(error as Error).message}`);
  }
  const token = await findAccessToken(env);
  /** A gRPC service (<SERVICE>_ADDR, host:port), or with `http` an HTTP one (<SERVICE>_URL). */
  const target = (service: string, http = false): ServiceTarget => {
    const prefix = envPrefix(service);
    const defaults = serviceTable.find((entry) => entry.name === service);
    const stacked = http
      ? { grpc: stack?.web?.[service], ops: stack?.webOps?.[service] }
      : stack?.services[service];
    const address = http ? env[`${prefix}_URL`] : env[`${prefix}_ADDR`];
    return {
      service,
      grpc:
        address ||
        stacked?.grpc ||
        `${http ? 'http://' : ''}127.0.0.1:${defaults?.grpcPort ?? 'unknown-port'}`,
      ops:
        env[`${prefix}_OPS_URL`] || stacked?.ops || `http://127.0.0.1:${defaults?.opsPort ?? 'unknown-port'}`,
    };
  };
  const fromStack = stack !== undefined && Object.keys(stack.services).length > 0 ? stack : undefined;
  const present = presentServices();
  const services = fromStack
    ? Object.keys(fromStack.services)
    : present.filter((entry) => !entry.http).map((entry) => entry.name);
  const web = (
    fromStack ? Object.keys(fromStack.web ?? {}) : present.filter((e) => e.http).map((e) => e.name)
  ).map((service) => target(service, true));
  return {
    stackPath,
    stack,
    stackAlive: stack !== undefined && isAlive(stack.pid),
    services,
    web,
    mailWeb: (env.SMTP_WEB_URL || stack?.smtp?.web || 'http://127.0.0.1:8025').replace(/\/+$/, ''),
    webhookSink: (env.WEBHOOK_SINK_URL || stack?.webhookSink || 'http://127.0.0.1:9999').replace(/\/+$/, ''),
    target: (service) => target(service),
    accessToken: () => {
      if (!token) throw notLoggedIn();
      return token;
    },
  };
}
