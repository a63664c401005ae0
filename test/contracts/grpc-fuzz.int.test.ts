import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isAlive } from '@conveyor/stack/stack-file';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { type ContractSystem, type Customer, rpc, startContractSystem } from './contract-system.ts';

// Codes a service may answer a malformed request with; never INTERNAL or UNKNOWN (a crash or a bug).
const documented = new Set([
  grpc.status.INVALID_ARGUMENT,
  grpc.status.NOT_FOUND,
  grpc.status.ALREADY_EXISTS,
  grpc.status.PERMISSION_DENIED,
  grpc.status.UNAUTHENTICATED,
  grpc.status.FAILED_PRECONDITION,
  grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.ABORTED,
]);

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.constantFrom(
    '',
    ' ',
    'MUG-001',
    '0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e',
    'a@b.c',
    '%00',
    '\u0000',
    'x'.repeat(5000),
  ),
  fc.uuid(),
);
const int = fc.oneof(fc.integer({ min: -5, max: 1100 }), fc.constantFrom(-2147483648, 2147483647));
const int64 = fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String), int);

/** Random requests per method, field names from the protos. */
const requests: Record<'users' | 'orders' | 'notifications', Record<string, fc.Arbitrary<object>>> = {
  users: {
    CreateUser: fc.record({ email: text, name: text, password: text }),
    GetUser: fc.record({ id: text }),
    Authenticate: fc.record({ email: text, password: text }),
    VerifyToken: fc.record({ access_token: text }),
    IssueServiceToken: fc.record({ service: text, secret: text }),
    RevealPersonalData: fc.record({ user_id: text, sealed: text }),
    EraseUser: fc.record({ id: text }),
  },
  orders: {
    ListProducts: fc.record({ page_size: int, page_token: text }),
    GetProduct: fc.record({ sku: text }),
    PlaceOrder: fc.record({
      user_id: text,
      items: fc.array(fc.record({ sku: text, quantity: int }), { maxLength: 60 }),
      idempotency_key: text,
    }),
    PayOrder: fc.record({ order_id: text }),
    ShipOrder: fc.record({ order_id: text, carrier: text, tracking_number: text }),
    CancelOrder: fc.record({ order_id: text, reason: text }),
    GetOrder: fc.record({ order_id: text }),
    ListOrders: fc.record({
      user_id: text,
      page_size: int,
      page_token: text,
      status: fc.integer({ min: -1, max: 9 }),
    }),
    GetOrderHistory: fc.record({ order_id: text }),
    GetOrderAt: fc.record({ order_id: text, version: int }),
    RepublishEvents: fc.record({ from_position: int64, to_position: int64 }),
  },
  notifications: {
    ListNotifications: fc.record({ user_id: text, page_size: int, page_token: text }),
    RegisterWebhook: fc.record({ user_id: text, global: fc.boolean(), url: text }),
    ListWebhooks: fc.record({ user_id: text, page_size: int, page_token: text }),
    DeleteWebhook: fc.record({ id: text }),
    ListDeadLetters: fc.record({
      filter: fc.record({ subject: text, reason_contains: text }),
      page_size: int,
      page_token: text,
    }),
    GetDeadLetter: fc.record({ id: text }),
  },
};

/** Inputs that broke services before (NUL bytes Postgres refuses, int64 beyond 2^53): one call each, every caller. */
const hostile: Record<'users' | 'orders' | 'notifications', [string, object][]> = {
  users: [
    ['CreateUser', { email: 'nul\u0000@example.com', name: 'N\u0000', password: '\u0000'.repeat(12) }],
    ['Authenticate', { email: '\u0000', password: 'p' }],
    ['Authenticate', { email: '\u0000', password: '\u0000' }],
    ['GetUser', { id: '\u0000' }],
    ['VerifyToken', { access_token: '\u0000' }],
    ['IssueServiceToken', { service: '\u0000', secret: '\u0000' }],
    ['EraseUser', { id: '\u0000' }],
  ],
  orders: [
    ['RepublishEvents', { from_position: '9223372036854775807', to_position: '0' }],
    ['RepublishEvents', { from_position: '1', to_position: '-9223372036854775808' }],
    ['PlaceOrder', { items: [{ sku: '\u0000', quantity: 1 }], idempotency_key: '\u0000' }],
    ['GetProduct', { sku: '\u0000' }],
    ['ListProducts', { page_token: '\u0000' }],
    ['ListOrders', { page_token: '\u0000' }],
    ['CancelOrder', { order_id: '0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e', reason: '\u0000' }],
  ],
  notifications: [
    ['ListNotifications', { page_token: '\u0000' }],
    ['RegisterWebhook', { global: true, url: 'https://example.com/\u0000' }],
    ['ListDeadLetters', { filter: { subject: '\u0000', reason_contains: '\u0000' } }],
    ['GetDeadLetter', { id: '\u0000' }],
  ],
};

describe('gRPC fuzzing: random and malformed requests get a documented code with a message, never a crash', () => {
  let system: ContractSystem;
  let callers: { label: string; who: Customer | undefined }[];
  before(async () => {
    system = await startContractSystem('contracts_fuzz');
    callers = [
      { label: 'anonymous', who: undefined },
      { label: 'customer', who: await system.signUp() },
      { label: 'admin', who: await system.signInAdmin() },
    ];
  });
  after(async () => {
    await system?.stop();
  });

  for (const service of ['users', 'orders', 'notifications'] as const) {
    it(`${service}: every method, 60 random requests per method`, async () => {
      // Every method is tried, and every failing one reported with its shrunk counterexample.
      const failures: string[] = [];
      for (const [method, arbitrary] of Object.entries(requests[service])) {
        const result = await fc.check(
          fc.asyncProperty(arbitrary, fc.constantFrom(...callers), async (request, caller) => {
            try {
              await rpc(system[service], method, request, caller.who?.metadata);
            } catch (error) {
              const e = error as grpc.ServiceError;
              assert.ok(
                documented.has(e.code),
                `${method} as ${caller.label} answered ${grpc.status[e.code] ?? e.message}: ${e.details}`,
              );
              assert.ok(e.details.trim().length > 0, `${method} ${grpc.status[e.code]} has a message`);
            }
          }),
          { numRuns: 60 },
        );
        if (result.failed) {
          const [request] = result.counterexample ?? [];
          failures.push(
            `${(result.errorInstance as Error)?.message ?? 'failed'} for ${JSON.stringify(request).slice(0, 200)}`,
          );
        }
      }
      for (const [method, request] of hostile[service]) {
        for (const caller of callers) {
          try {
            await rpc(system[service], method, request, caller.who?.metadata);
          } catch (error) {
            const e = error as grpc.ServiceError;
            if (!documented.has(e.code) || !e.details.trim()) {
              failures.push(
                `${method} as ${caller.label} answered ${grpc.status[e.code]}: ${e.details} for ${JSON.stringify(request)}`,
              );
            }
          }
        }
      }
      assert.deepEqual(failures, []);
      const pid = system.services[service].process.pid;
      assert.ok(pid !== undefined && isAlive(pid), `${service} is still running`);
    });
  }
});
