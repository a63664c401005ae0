import { relative } from 'node:path';
import { callUnary } from '@conveyor/platform/grpc-client';
import { probeReadyz } from '@conveyor/stack/readyz';
import { makeGenericClientConstructor, type ServiceDefinition, status } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import type { Endpoints, ServiceTarget } from './addresses.ts';
import { exitCodes, type Outcome, shown } from './cli-error.ts';
import { formatStatus, formatTime, type ServiceStatus } from './format.ts';
import { credentials, DEADLINE_MS, isConnected, isServiceError } from './service-calls.ts';

const HealthClient = makeGenericClientConstructor(
  healthService as unknown as ServiceDefinition,
  'grpc.health.v1.Health',
);

/** grpc.health.v1 Check of the whole server (service ""): SERVING, NOT_SERVING, unreachable... */
async function health(target: ServiceTarget): Promise<string> {
  const client = new HealthClient(target.grpc, credentials());
  try {
    // grpc-health-check's definition has no typed client: Check answers { status: 'SERVING' | ... }.
    const check = client.Check as Parameters<typeof callUnary<{ service: string }, { status: string }>>[1];
    return (await callUnary(client, check, { service: '' }, { deadlineMs: DEADLINE_MS })).status;
  } catch (error) {
    if (!isServiceError(error)) return 'error';
    const unreachable = error.code === status.UNAVAILABLE || error.code === status.DEADLINE_EXCEEDED;
    return unreachable && !isConnected(client)
      ? 'unreachable'
      : (status[error.code] ?? `status ${error.code}`);
  } finally {
    client.close();
  }
}

async function readyz(target: ServiceTarget): Promise<string> {
  const result = await probeReadyz(target.ops, 3000);
  if (result.ready) return 'ready';
  return result.detail === 'no answer' ? 'unreachable' : `not ready: ${result.detail}`;
}

function describeStack(endpoints: Endpoints): string {
  const { stack } = endpoints;
  const fromHere = relative(process.cwd(), endpoints.stackPath);
  const stackPath = fromHere.startsWith('..') ? endpoints.stackPath : fromHere;
  if (!stack) return `stack: no ${stackPath}; checking the default addresses`;
  if (!endpoints.stackAlive) return `stack: stale ${stackPath} (launcher pid ${stack.pid} is not running)`;
  return `stack: ${stack.status} (launcher pid ${stack.pid}, since ${formatTime(stack.startedAt)})`;
}

/** An HTTP service answers its base URL: SERVING on a 2xx, else the status or unreachable. */
async function httpHealth(target: ServiceTarget): Promise<string> {
  try {
    const response = await fetch(target.grpc, { signal: AbortSignal.timeout(3000), redirect: 'manual' });
    await response.body?.cancel();
    return response.ok ? 'SERVING' : `HTTP ${response.status}`;
  } catch {
    return 'unreachable';
  }
}

/**
 * gRPC health (HTTP for the gateway) and /readyz of every service; exit code 1 when any is not
 * serving or not ready.
 */
export async function stackStatus(endpoints: Endpoints, input: { json: boolean }): Promise<Outcome> {
  const probe = async (target: ServiceTarget, check: (t: ServiceTarget) => Promise<string>) => {
    const [healthState, readyState] = await Promise.all([check(target), readyz(target)]);
    return {
      ...target,
      health: healthState,
      readyz: readyState,
      up: healthState === 'SERVING' && readyState === 'ready',
    };
  };
  const statuses: ServiceStatus[] = await Promise.all([
    ...endpoints.services.map((service) => probe(endpoints.target(service), health)),
    ...endpoints.web.map((target) => probe(target, httpHealth)),
  ]);
  const up = statuses.every((s) => s.up);
  const { stack, stackPath: path, stackAlive: alive } = endpoints;
  const summary = stack
    ? { path, pid: stack.pid, alive, status: stack.status, startedAt: stack.startedAt }
    : null;
  const text = () => `${describeStack(endpoints)}\n\n${formatStatus(statuses)}`;
  return {
    ...shown(input.json, { up, stack: summary, services: statuses }, text),
    exitCode: up ? exitCodes.ok : exitCodes.failure,
  };
}
