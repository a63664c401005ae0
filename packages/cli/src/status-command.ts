import { relative } from 'node:path';
import { callUnary } from '@conveyor/platform/grpc-client';
import { httpGet, probeReadyz } from '@conveyor/stack/readyz';
import { makeGenericClientConstructor, status } from '@grpc/grpc-js';
import type { Endpoints, ServiceTarget } from './addresses.ts';
import { exitCodes, type Outcome, shown } from './cli-error.ts';
import { formatStatus, formatTime, type ServiceStatus } from './format.ts';
import { credentials, DEADLINE_MS, isConnected, isServiceError } from './grpc-channel.ts';

/**
 * grpc.health.v1's Check, its two messages coded here: the request for the whole server (service
 * "") is empty, proto3 leaving defaults out, and the answer's one field is `status` (field 1, an
 * enum: tag byte 0x08, then the value, below 128). grpc-health-check's definition loads protobufjs
 * and parses health.proto at every start: about 100 ms of each `conveyor status` (issue 26).
 */
const servingStatus = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];
const empty = () => Buffer.alloc(0);

function checkAnswer(bytes: Buffer): { status: string } {
  if (bytes.length === 0) return { status: 'UNKNOWN' };
  if (bytes.length !== 2 || bytes[0] !== 0x08) return { status: 'unreadable answer' };
  return { status: servingStatus[bytes[1] as number] ?? `status ${bytes[1]}` };
}

const HealthClient = makeGenericClientConstructor(
  {
    Check: {
      path: '/grpc.health.v1.Health/Check',
      requestStream: false,
      responseStream: false,
      requestSerialize: empty,
      requestDeserialize: () => ({}),
      responseSerialize: empty,
      responseDeserialize: checkAnswer,
    },
  },
  'grpc.health.v1.Health',
);

/** grpc.health.v1 Check of the whole server (service ""): SERVING, NOT_SERVING, unreachable... */
export async function grpcHealth(target: Pick<ServiceTarget, 'grpc'>): Promise<string> {
  const client = new HealthClient(target.grpc, credentials());
  try {
    // A generic client has no typed methods: Check answers { status: 'SERVING' | ... }.
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
    const { status } = await httpGet(new URL(target.grpc), 3000);
    return status >= 200 && status < 300 ? 'SERVING' : `HTTP ${status}`;
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
    ...endpoints.services.map((service) => probe(endpoints.target(service), grpcHealth)),
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
