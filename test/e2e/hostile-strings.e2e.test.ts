import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { protoRoot } from '@conveyor/contracts';
import { maxRequestStringLength } from '@conveyor/platform';
import { type System, startSystem } from '@conveyor/stack';
import { call, independentClient, type SignedIn, signInAdmin } from '@conveyor/stack/testing';
import * as grpc from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { service as healthService } from 'grpc-health-check';

/**
 * Hostile strings (issue 17): every string field of every unary RPC of every service, alone, at
 * 1 KB, at the request guard's limit in "é" (each percent-encodes to six bytes in a status) and at
 * 1 MB, as an admin (so the call gets past authentication to the validators). Each must be answered
 * before a 2 s deadline with a status the caller can act on and a message under 512 bytes, while a
 * call on the same connection still succeeds. Latencies are reported, not asserted.
 */
const protos = [
  { file: 'conveyor/users/v1/users.proto', service: 'conveyor.users.v1.UserService', process: 'users' },
  { file: 'conveyor/orders/v1/orders.proto', service: 'conveyor.orders.v1.OrderService', process: 'orders' },
  {
    file: 'conveyor/notifications/v1/notifications.proto',
    service: 'conveyor.notifications.v1.NotificationService',
    process: 'notifications',
  },
] as const;

const sizes = [
  { name: '1 KB', value: 'x'.repeat(1024) },
  { name: `${maxRequestStringLength} é`, value: 'é'.repeat(maxRequestStringLength) },
  { name: '1 MB', value: 'x'.repeat(1_000_000) },
] as const;

/** Statuses that mean the server failed the caller: never the answer to bad input. */
const wrong = new Set([
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.INTERNAL,
  grpc.status.UNKNOWN,
  grpc.status.UNAVAILABLE,
  grpc.status.CANCELLED,
]);

interface Field {
  /** Proto spelling, e.g. items[0].sku. */
  path: string;
  /** Builds a request holding `value` at this field (everything else default). */
  request(value: string): object;
}

interface TypeDescriptor {
  field: { name: string; type: string; label: string; typeName: string }[];
}

/** Every string field reachable from a message type (messages and lists followed 3 levels deep). */
function stringFields(definition: PackageDefinition, pkg: string, type: TypeDescriptor, depth = 0): Field[] {
  if (depth > 3) return [];
  const fields: Field[] = [];
  for (const f of type.field) {
    const repeated = f.label === 'LABEL_REPEATED';
    const wrap = (inner: unknown) => (repeated ? [inner] : inner);
    if (f.type === 'TYPE_STRING') {
      fields.push({ path: f.name, request: (value) => ({ [f.name]: wrap(value) }) });
    } else if (f.type === 'TYPE_MESSAGE') {
      // Type names are relative to the package (or qualified); google.protobuf types hold no strings we send.
      const name = f.typeName.replace(/^\./, '');
      const inner = (definition[`${pkg}.${name}`] ?? definition[name]) as
        | { type?: TypeDescriptor; format?: string }
        | undefined;
      if (!inner?.type || name.startsWith('google.')) continue;
      for (const nested of stringFields(definition, pkg, inner.type, depth + 1)) {
        fields.push({
          path: `${f.name}${repeated ? '[0]' : ''}.${nested.path}`,
          request: (value) => ({ [f.name]: wrap(nested.request(value)) }),
        });
      }
    }
  }
  return fields;
}

describe('hostile strings in every field of every RPC (processes)', () => {
  let system: System;
  let admin: SignedIn;

  before(async () => {
    system = await startSystem({
      name: 'e2e_hostile',
      services: ['users', 'orders', 'notifications'],
      env: { all: { DATABASE_POOL_SIZE: '3' } },
    });
    admin = await signInAdmin(system.address('users'));
  });

  after(async () => {
    await system?.stop();
  });

  for (const proto of protos) {
    it(`${proto.process}: answers at once, in a short status, and the connection stays usable`, async (t) => {
      const address = system.address(proto.process);
      const definition = loadSync(proto.file, { includeDirs: [protoRoot], keepCase: true, defaults: true });
      const client = independentClient(proto.file, proto.service, address);
      const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
      const health = new Health(address, grpc.credentials.createInsecure());
      const healthy = () =>
        new Promise<void>((resolve, reject) =>
          (health as unknown as { check: (...a: unknown[]) => void }).check(
            { service: '' },
            { deadline: Date.now() + 2000 },
            (error: Error | null) => (error ? reject(error) : resolve()),
          ),
        );
      const methods = definition[proto.service] as grpc.ServiceDefinition;
      const latencies: Record<string, number[]> = Object.fromEntries(sizes.map((s) => [s.name, []]));
      const codes = new Map<string, number>();
      let calls = 0;
      try {
        for (const [name, method] of Object.entries(methods)) {
          if (method.requestStream || method.responseStream) continue;
          const requestType = (method as unknown as { requestType: { type: TypeDescriptor } }).requestType;
          const pkg = proto.service.slice(0, proto.service.lastIndexOf('.'));
          for (const field of stringFields(definition, pkg, requestType.type)) {
            for (const size of sizes) {
              const started = performance.now();
              const [answer, beside] = await Promise.allSettled([
                call(client, name, field.request(size.value), 2000, admin.metadata()),
                healthy(),
              ]);
              latencies[size.name]!.push(performance.now() - started);
              calls++;
              const where = `${name} ${field.path} = ${size.name}`;
              assert.equal(
                beside.status,
                'fulfilled',
                `${where}: a call beside it on the same connection failed`,
              );
              if (answer.status === 'fulfilled') {
                assert.notEqual(size.name, '1 MB', `${where}: accepted`);
                codes.set('OK', (codes.get('OK') ?? 0) + 1);
                continue;
              }
              const error = answer.reason as grpc.ServiceError;
              assert.ok(
                !wrong.has(error.code),
                `${where}: ${grpc.status[error.code]} ${error.details?.slice(0, 120)}`,
              );
              if (size.name === '1 MB') {
                assert.ok(
                  [grpc.status.INVALID_ARGUMENT, grpc.status.RESOURCE_EXHAUSTED].includes(error.code),
                  `${where}: ${grpc.status[error.code]}`,
                );
              }
              assert.ok(
                Buffer.byteLength(error.details ?? '') < 512,
                `${where}: a status of ${error.details.length}`,
              );
              const code = grpc.status[error.code]!;
              codes.set(code, (codes.get(code) ?? 0) + 1);
            }
          }
        }
      } finally {
        client.close();
        health.close();
      }
      assert.ok(calls > 0, 'no string field found: the walk over the proto is broken');
      const summary = Object.entries(latencies)
        .map(([size, ms]) => {
          const sorted = ms.sort((a, b) => a - b);
          return `${size}: p50 ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms`;
        })
        .join('; ');
      t.diagnostic(`${calls} calls; ${summary}; codes ${JSON.stringify(Object.fromEntries(codes))}`);
    });
  }
});
