import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { protoFiles, protoRoot, usersV1 } from '@conveyor/contracts';
import { waitUntil } from '@conveyor/stack';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { service as healthService } from 'grpc-health-check';
import { pino } from 'pino';
import { aborted, InvalidArgument } from '../errors.ts';
import { Readiness } from '../lifecycle/readiness.ts';
import { createMetricsRegistry } from '../observability/metrics.ts';
import { callUnary } from './client.ts';
import { InFlightLimit } from './in-flight-limit.ts';
import { createGrpcServer, listenGrpc, stopGrpc } from './server.ts';
import { unary } from './unary.ts';

const logger = pino({ level: 'silent' });
const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');

function healthCheck(address: string, service: string): Promise<string> {
  const client = new HealthClient(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    type Check = (
      request: { service: string },
      options: grpc.CallOptions,
      callback: (error: Error | null, reply: { status: string }) => void,
    ) => void;
    (client as unknown as { check: Check }).check(
      { service },
      { deadline: Date.now() + 3000 },
      (error, reply) => {
        client.close();
        error ? reject(error) : resolve(reply.status);
      },
    );
  });
}

function listServicesByReflection(address: string): Promise<string[]> {
  const require = createRequire(import.meta.url);
  const reflectionProto = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
  const definition = loadSync(reflectionProto, { keepCase: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
  };
  const client = new loaded.grpc.reflection.v1.ServerReflection(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    type Reply = { list_services_response?: { service: { name: string }[] } };
    const open = (client as unknown as { ServerReflectionInfo: () => grpc.ClientDuplexStream<object, Reply> })
      .ServerReflectionInfo;
    const stream = open.call(client);
    stream.on('data', (reply: Reply) => {
      resolve(reply.list_services_response?.service.map((s: { name: string }) => s.name) ?? []);
      stream.end();
      client.close();
    });
    stream.on('error', reject);
    stream.write({ list_services: '' });
  });
}

/** UNIMPLEMENTED for every UserService method; tests override the ones they exercise. */
const unimplemented = Object.fromEntries(
  Object.keys(usersV1.UserServiceService).map((method) => [
    method,
    (_call: unknown, callback: grpc.sendUnaryData<never>) =>
      callback({ code: grpc.status.UNIMPLEMENTED, details: `${method} not in this test` }),
  ]),
) as unknown as usersV1.UserServiceServer;

/** A listening server with `implementation` as conveyor.users.v1.UserService; its address. */
async function serveUsers(
  implementation: usersV1.UserServiceServer,
  options: { readiness: Readiness } & Pick<
    Parameters<typeof createGrpcServer>[0],
    'registry' | 'inFlightLimit'
  >,
) {
  const server = createGrpcServer({
    services: [
      { name: 'conveyor.users.v1.UserService', definition: usersV1.UserServiceService, implementation },
    ],
    protoRoot,
    protoFiles: protoFiles.users,
    ...options,
  });
  const port = await listenGrpc(server, '127.0.0.1', 0);
  return { server, address: `127.0.0.1:${port}` };
}

describe('gRPC server kit', () => {
  it('serves health that follows readiness, reflection, and maps errors to statuses', async () => {
    let dependencyUp = false;
    const readiness = new Readiness().add('dependency', async () => dependencyUp);
    const implementation: usersV1.UserServiceServer = {
      ...unimplemented,
      createUser: unary('CreateUser', logger, async (req: usersV1.CreateUserRequest) => {
        if (req.email === 'race') throw aborted('lost a race');
        if (req.email === 'boom') throw new Error('database password is hunter2');
        throw new InvalidArgument('email', 'is required');
      }),
      getUser: unary('GetUser', logger, async (req: usersV1.GetUserRequest) => ({
        user: {
          id: req.id,
          email: 'a@b.co',
          name: 'A',
          createdAt: new Date(0),
          role: usersV1.Role.ROLE_CUSTOMER,
        },
      })),
    };
    const { server, address } = await serveUsers(implementation, { readiness });
    try {
      readiness.watch(60_000);
      await readiness.report();
      assert.equal(await healthCheck(address, ''), 'NOT_SERVING');
      dependencyUp = true;
      await readiness.report();
      assert.equal(await healthCheck(address, ''), 'SERVING');
      assert.equal(await healthCheck(address, 'conveyor.users.v1.UserService'), 'SERVING');

      const services = await listServicesByReflection(address);
      assert.ok(services.includes('conveyor.users.v1.UserService'), services.join(','));

      const client = new usersV1.UserServiceClient(address, grpc.credentials.createInsecure());
      const create = (email: string) =>
        callUnary(client, client.createUser, { email, name: '', password: '' }, { deadlineMs: 3000 });
      await assert.rejects(create(''), { code: grpc.status.INVALID_ARGUMENT, details: 'email: is required' });
      // The request guard answers before the handler runs (which would say "is required").
      await assert.rejects(create('a\u0000b'), {
        code: grpc.status.INVALID_ARGUMENT,
        details: 'email: must not contain NUL characters',
      });
      await assert.rejects(create('race'), { code: grpc.status.ABORTED, details: 'lost a race' });
      // Internals never leak: a generic message for unexpected errors.
      await assert.rejects(create('boom'), { code: grpc.status.INTERNAL, details: 'internal error' });
      const { user } = await callUnary(client, client.getUser, { id: 'x' }, { deadlineMs: 3000 });
      assert.equal(user?.createdAt?.getTime(), 0);
      client.close();

      readiness.beginShutdown();
      assert.equal(await healthCheck(address, ''), 'NOT_SERVING');
    } finally {
      await stopGrpc(server, 1000);
    }
  });

  it('fails a call that outlives its deadline with DEADLINE_EXCEEDED', async () => {
    const readiness = new Readiness();
    const slow: usersV1.UserServiceServer = {
      ...unimplemented,
      createUser: unary('CreateUser', logger, () => new Promise(() => {})),
      getUser: unary('GetUser', logger, () => new Promise(() => {})),
    };
    const { server, address } = await serveUsers(slow, { readiness });
    const client = new usersV1.UserServiceClient(address, grpc.credentials.createInsecure());
    try {
      await assert.rejects(callUnary(client, client.getUser, { id: 'x' }, { deadlineMs: 200 }), {
        code: grpc.status.DEADLINE_EXCEEDED,
      });
    } finally {
      client.close();
      await stopGrpc(server, 100);
    }
  });
  it('refuses unary calls beyond the in-flight limit with UNAVAILABLE, at once, and admits again when calls end', async () => {
    const readiness = new Readiness();
    const registry = createMetricsRegistry('limit-test');
    const limit = new InFlightLimit(3, registry);
    const waiting: (() => void)[] = [];
    let handled = 0;
    const implementation: usersV1.UserServiceServer = {
      ...unimplemented,
      // Holds every call until the test releases it; id "hang" never answers (a stuck handler).
      getUser: unary('GetUser', logger, async (req: usersV1.GetUserRequest) => {
        handled++;
        if (req.id === 'hang') await new Promise(() => {});
        await new Promise<void>((resolve) => waiting.push(resolve));
        return { user: { id: req.id, email: 'a@b.co', name: 'A', createdAt: new Date(0), role: 1 } };
      }),
    };
    const { server, address } = await serveUsers(implementation, {
      readiness,
      registry,
      inFlightLimit: limit,
    });
    const client = new usersV1.UserServiceClient(address, grpc.credentials.createInsecure());
    const get = (id: string, deadlineMs = 5000) => callUnary(client, client.getUser, { id }, { deadlineMs });
    const metric = async (name: string) =>
      (await registry.getSingleMetricAsString(name)).split('\n').filter((l) => !l.startsWith('#'));
    try {
      readiness.watch(60_000);
      await readiness.report();
      const admitted = [get('a'), get('b'), get('c')];
      await waitUntil(() => waiting.length === 3, {
        timeoutMs: 5000,
        intervalMs: 5,
        message: 'three calls in',
      });
      assert.equal(limit.inFlight, 3);
      assert.match((await metric('rpc_server_in_flight')).join(), / 3$/);

      const started = performance.now();
      await assert.rejects(get('d'), {
        code: grpc.status.UNAVAILABLE,
        details: 'overloaded: 3 calls in flight; retry with backoff',
      });
      assert.ok(performance.now() - started < 1000, 'refused at once, not queued');
      assert.equal(handled, 3, 'the refused call never reached the handler');
      assert.ok(
        (await metric('rpc_server_requests_total')).some(
          (l) =>
            l.includes('rpc_method="GetUser"') && l.includes('rpc_grpc_status_code="14"') && l.endsWith(' 1'),
        ),
        'a refused call is counted as UNAVAILABLE',
      );
      assert.equal(await healthCheck(address, ''), 'SERVING', 'health is never refused');

      for (const release of waiting.splice(0)) release();
      assert.deepEqual(
        (await Promise.all(admitted)).map((r) => r.user?.id),
        ['a', 'b', 'c'],
      );
      assert.equal(limit.inFlight, 0);

      // A caller that gives up (deadline) frees its slot even though the handler never answers.
      await assert.rejects(get('hang', 200), { code: grpc.status.DEADLINE_EXCEEDED });
      await waitUntil(() => limit.inFlight === 0, {
        timeoutMs: 5000,
        intervalMs: 5,
        message: 'the slot was kept',
      });
      const after = get('e');
      await waitUntil(() => waiting.length === 1, {
        timeoutMs: 5000,
        intervalMs: 5,
        message: 'the call never came in',
      });
      waiting.shift()!();
      assert.equal((await after).user?.id, 'e');
    } finally {
      for (const release of waiting) release();
      client.close();
      await stopGrpc(server, 100);
    }
  });
  it('answers huge or non-ASCII bad input with a short INVALID_ARGUMENT at once, and the connection stays usable', async () => {
    const readiness = new Readiness();
    const implementation: usersV1.UserServiceServer = {
      ...unimplemented,
      // Echoes the value as validators do ("… is not a UUID").
      getUser: unary('GetUser', logger, async (req: usersV1.GetUserRequest) => {
        if (req.id !== 'ok') throw new InvalidArgument('id', `"${req.id}" is not a user id`);
        return { user: { id: 'ok', email: 'a@b.co', name: 'A', createdAt: new Date(0), role: 1 } };
      }),
    };
    const { server, address } = await serveUsers(implementation, { readiness });
    const client = new usersV1.UserServiceClient(address, grpc.credentials.createInsecure());
    const get = (id: string) => callUnary(client, client.getUser, { id }, { deadlineMs: 2000 });
    try {
      for (const [what, id] of [
        ['1 KB', 'x'.repeat(1024)],
        ['8 KB', 'x'.repeat(8192)],
        ['40 KB of é', 'é'.repeat(40_000)],
        ['100 KB', 'x'.repeat(100_000)],
        ['1 MB', 'x'.repeat(1_000_000)],
      ] as const) {
        const [bad, good] = await Promise.allSettled([get(id), get('ok')]);
        assert.equal(bad.status, 'rejected', what);
        const error = (bad as PromiseRejectedResult).reason as grpc.ServiceError;
        assert.ok(
          [grpc.status.INVALID_ARGUMENT, grpc.status.RESOURCE_EXHAUSTED].includes(error.code),
          `${what}: ${error.code} ${error.details?.slice(0, 80)}`,
        );
        assert.ok(
          Buffer.byteLength(error.details) < 512,
          `${what}: details of ${error.details.length} chars`,
        );
        assert.equal(good.status, 'fulfilled', `${what}: a concurrent call on the same connection`);
      }
    } finally {
      client.close();
      await stopGrpc(server, 100);
    }
  });
});
