import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { protoFiles, protoRoot, usersV1 } from '@conveyor/contracts';
import * as grpc from '@grpc/grpc-js';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { pino } from 'pino';
import { notFound } from '../errors.ts';
import { Readiness } from '../lifecycle/readiness.ts';
import { createMetricsRegistry } from '../observability/metrics.ts';
import { logCorrelation, startTelemetry, withSpan } from '../observability/telemetry.ts';
import { callUnary, insecure } from './client.ts';
import { measureGrpcClients } from './rpc-metrics.ts';
import { createGrpcServer, listenGrpc, stopGrpc } from './server.ts';
import { unary } from './unary.ts';

const logger = pino({ level: 'silent' });
const exporter = new InMemorySpanExporter();
startTelemetry({
  serviceName: 'grpc-instrumentation-test',
  env: { OTEL_TRACES_SAMPLER: 'always_on' },
  exporter,
});

const unimplemented = Object.fromEntries(
  Object.keys(usersV1.UserServiceService).map((method) => [
    method,
    (_call: unknown, callback: grpc.sendUnaryData<never>) => callback({ code: grpc.status.UNIMPLEMENTED }),
  ]),
) as unknown as usersV1.UserServiceServer;

describe('gRPC tracing and metrics (real server on loopback)', () => {
  const registry = createMetricsRegistry('grpc-test');
  const seenInHandler: Record<string, unknown>[] = [];
  let server: grpc.Server;
  let client: usersV1.UserServiceClient;

  before(async () => {
    const readiness = new Readiness();
    server = createGrpcServer({
      services: [
        {
          definition: usersV1.UserServiceService,
          name: 'conveyor.users.v1.UserService',
          implementation: {
            ...unimplemented,
            getUser: unary('GetUser', logger, async (request: usersV1.GetUserRequest) => {
              seenInHandler.push(logCorrelation());
              throw notFound(`user ${request.id}`);
            }),
          },
        },
      ],
      readiness,
      protoRoot,
      protoFiles: protoFiles.users,
      registry,
    });
    const port = await listenGrpc(server, '127.0.0.1', 0);
    client = new usersV1.UserServiceClient(`127.0.0.1:${port}`, insecure());
    measureGrpcClients(registry);
  });

  after(async () => {
    client?.close();
    if (server) await stopGrpc(server, 1000);
  });

  it('continues the caller’s trace on the server, with the status code on both spans and in metrics', async () => {
    exporter.reset();
    const caller = await withSpan('caller', {}, async (span) => {
      await assert.rejects(callUnary(client, client.getUser, { id: 'u-1' }, { deadlineMs: 5000 }), {
        code: grpc.status.NOT_FOUND,
      });
      return span.spanContext();
    });
    const spans = exporter.getFinishedSpans();
    const clientSpan = spans.find((s) => s.kind === SpanKind.CLIENT)!;
    const serverSpan = spans.find((s) => s.kind === SpanKind.SERVER)!;
    assert.equal(clientSpan.name, 'conveyor.users.v1.UserService/GetUser');
    assert.equal(clientSpan.parentSpanContext?.spanId, caller.spanId);
    assert.equal(serverSpan.spanContext().traceId, caller.traceId);
    assert.equal(serverSpan.parentSpanContext?.spanId, clientSpan.spanContext().spanId);
    assert.equal(serverSpan.attributes['rpc.grpc.status_code'], grpc.status.NOT_FOUND);
    assert.equal(serverSpan.attributes['rpc.method'], 'GetUser');
    // NOT_FOUND is the caller's problem: not a server error; the client sees a failed call.
    assert.equal(serverSpan.status.code, SpanStatusCode.UNSET);
    assert.equal(clientSpan.status.code, SpanStatusCode.ERROR);

    assert.equal(seenInHandler[0]?.trace_id, caller.traceId);
    assert.equal(seenInHandler[0]?.rpc_method, 'conveyor.users.v1.UserService/GetUser');

    const labels = {
      rpc_service: 'conveyor.users.v1.UserService',
      rpc_method: 'GetUser',
      rpc_grpc_status_code: '5',
    };
    const value = async (name: string) =>
      ((await registry.getSingleMetric(name)?.get())?.values ?? [])
        .map((v) => v as typeof v & { metricName?: string })
        .find(
          (v) =>
            Object.entries(labels).every(([k, l]) => v.labels[k] === l) &&
            (v.metricName === undefined || v.metricName === `${name}_count`),
        )?.value;
    assert.equal(await value('rpc_server_requests_total'), 1);
    assert.equal(await value('rpc_client_requests_total'), 1);
    assert.equal(await value('rpc_server_duration_seconds'), 1);
  });
});
