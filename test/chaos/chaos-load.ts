import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { call, independentClient, TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD } from '@conveyor/stack/testing';
import * as grpc from '@grpc/grpc-js';
import type { AcceptedOrder, OrderCommand } from '../rehearsal/order-load.ts';

type CommandKind = OrderCommand['kind'];
const paths: readonly (readonly CommandKind[])[] = [
  ['pay', 'ship', 'deliver'],
  ['cancel'],
  ['pay', 'cancel'],
  ['pay'],
];
const commandMethods: Record<CommandKind, string> = {
  pay: 'PayOrder',
  ship: 'ShipOrder',
  deliver: 'DeliverOrder',
  cancel: 'CancelOrder',
};
const commandRequests: Record<CommandKind, object> = {
  pay: {},
  ship: { carrier: 'DHL', tracking_number: 'CHAOS0001' },
  deliver: {},
  cancel: { reason: 'chaos: changed my mind' },
};
/** The word a FAILED_PRECONDITION names when the order already is where the command takes it. */
const statusWords: Record<CommandKind, string> = {
  pay: 'paid',
  ship: 'shipped',
  deliver: 'delivered',
  cancel: 'cancelled',
};

export interface ChaosLoadResult {
  accepted: AcceptedOrder[];
  /** Different order ids returned for one idempotency key: must stay 0. */
  duplicateOrdersForKey: number;
  /** Commands given up after every attempt (their outcome is unknown; never counted as accepted). */
  gaveUp: number;
  retries: number;
  /** Failures by `method code: details` (first 200 characters), for the report. */
  errors: Record<string, number>;
}

const retryable = new Set<number>([
  grpc.status.UNAVAILABLE,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.ABORTED,
  grpc.status.INTERNAL,
  grpc.status.UNKNOWN,
  grpc.status.CANCELLED,
  grpc.status.RESOURCE_EXHAUSTED,
]);

/**
 * Steady, bounded order load through the public gRPC APIs: each worker signs a
 * customer up (CreateUser with a password, then Authenticate for a token when
 * the users service offers it), places orders with an idempotency key (retried
 * with the same key after ambiguous failures), then takes each order down one of four paths
 * (pay, ship, deliver; cancel; pay, cancel; pay), shipping and delivering as the system's admin.
 * An order counts as accepted only once PlaceOrder answered OK; each later command is recorded
 * as answered OK or unknown (no answer in the end), and the checker holds the system to both.
 */
export function startChaosLoad(options: {
  usersAddress: string;
  ordersAddress: string;
  workers: number;
  pauseMs: number;
  maxOrders: number;
}) {
  const users = independentClient(
    'conveyor/users/v1/users.proto',
    'conveyor.users.v1.UserService',
    options.usersAddress,
  );
  const orders = independentClient(
    'conveyor/orders/v1/orders.proto',
    'conveyor.orders.v1.OrderService',
    options.ordersAddress,
  );
  const started = Date.now();
  const result: ChaosLoadResult = {
    accepted: [],
    duplicateOrdersForKey: 0,
    gaveUp: 0,
    retries: 0,
    errors: {},
  };
  let stopping = false;
  let placed = 0;

  async function attempt<T>(
    client: grpc.Client,
    method: string,
    request: object,
    metadata: grpc.Metadata | undefined,
    settle?: (e: grpc.ServiceError) => T | undefined,
  ): Promise<T | undefined> {
    for (let i = 0; i < 10; i++) {
      try {
        return await callWith<T>(client, method, request, metadata);
      } catch (error) {
        const e = error as grpc.ServiceError;
        const settled = settle?.(e);
        if (settled !== undefined) return settled;
        const key = `${method} ${grpc.status[e.code] ?? e.code}: ${String(e.details).slice(0, 200)}`;
        result.errors[key] = (result.errors[key] ?? 0) + 1;
        if (!retryable.has(e.code)) break;
        result.retries++;
        await sleep(Math.min(100 * 2 ** i, 1500));
      }
    }
    result.gaveUp++;
    return undefined;
  }

  async function signUp(): Promise<{ userId: string; metadata: grpc.Metadata | undefined } | undefined> {
    const email = `chaos-${randomUUID()}@example.com`;
    const password = `pw-${randomUUID()}`;
    // Older revisions answered the new user here; today's answer the same for a taken address (nothing).
    const created = await attempt<{ user?: { id: string } }>(
      users,
      'CreateUser',
      { email, name: 'Chaos Tester', password },
      undefined,
    );
    if (!created) return undefined;
    // Before the users service had Authenticate (and orders needed tokens) there is nothing to send.
    if (typeof (users as unknown as Record<string, unknown>).Authenticate !== 'function') {
      return created.user ? { userId: created.user.id, metadata: undefined } : undefined;
    }
    const auth = await attempt<{ access_token: string; user: { id: string } } | 'none'>(
      users,
      'Authenticate',
      { email, password },
      undefined,
      (e) => (e.code === grpc.status.UNIMPLEMENTED ? 'none' : undefined),
    );
    if (auth === undefined) return undefined;
    if (auth === 'none' || !auth.access_token)
      return created.user ? { userId: created.user.id, metadata: undefined } : undefined;
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${auth.access_token}`);
    return { userId: auth.user.id, metadata };
  }

  /** Ship and deliver need an admin: the system's first one, signed in once. */
  let admin: Promise<grpc.Metadata | undefined> | undefined;
  const adminMetadata = () =>
    (admin ??= attempt<{ access_token: string }>(
      users,
      'Authenticate',
      { email: TEST_ADMIN_EMAIL, password: TEST_ADMIN_PASSWORD },
      undefined,
    ).then((auth) => {
      if (!auth?.access_token) return undefined;
      const metadata = new grpc.Metadata();
      metadata.set('authorization', `Bearer ${auth.access_token}`);
      return metadata;
    }));

  /**
   * One command, retried after ambiguous failures: ok, unknown (no answer in the end), or refused.
   * A retry that finds the command already done (FAILED_PRECONDITION naming that state) is ok:
   * an earlier attempt committed before its answer was lost.
   */
  async function command(
    kind: CommandKind,
    orderId: string,
    customer: grpc.Metadata | undefined,
  ): Promise<'ok' | 'unknown' | 'refused'> {
    const request = { order_id: orderId, ...commandRequests[kind] };
    const who = kind === 'ship' || kind === 'deliver' ? await adminMetadata() : customer;
    let refused = false;
    const answer = await attempt<unknown>(orders, commandMethods[kind], request, who, (e) => {
      if (e.code !== grpc.status.FAILED_PRECONDITION) return undefined;
      if (e.details.includes(`order is ${statusWords[kind]};`)) return 'already';
      refused = true;
      return 'refused';
    });
    if (refused) return 'refused';
    return answer === undefined ? 'unknown' : 'ok';
  }

  async function worker(): Promise<void> {
    while (!stopping && placed < options.maxOrders) {
      const customer = await signUp();
      if (!customer) continue;
      for (let n = 0; n < 5 && !stopping && placed < options.maxOrders; n++) {
        placed++;
        const key = randomUUID();
        const request = {
          user_id: customer.userId,
          items: [{ sku: 'MUG-001', quantity: 1 }],
          idempotency_key: key,
        };
        const first = await attempt<{ order: { id: string } }>(
          orders,
          'PlaceOrder',
          request,
          customer.metadata,
        );
        if (!first) continue;
        const order: AcceptedOrder = {
          orderId: first.order.id,
          userId: customer.userId,
          idempotencyKey: key,
          paid: false,
          at: Date.now() - started,
        };
        result.accepted.push(order);
        const again = await attempt<{ order: { id: string } }>(
          orders,
          'PlaceOrder',
          request,
          customer.metadata,
        );
        if (again && again.order.id !== order.orderId) result.duplicateOrdersForKey++;
        order.commands = [];
        // Four paths in turn: pay, ship, deliver; cancel; pay, then cancel; pay only.
        for (const kind of paths[placed % paths.length] as readonly CommandKind[]) {
          const outcome = await command(kind, order.orderId, customer.metadata);
          if (outcome === 'refused') break;
          order.commands.push({ kind, outcome });
          if (kind === 'pay') order.paid = outcome === 'ok';
          // After a lost answer the order's state is unknown: nothing more is sent for it.
          if (outcome === 'unknown') break;
        }
        await sleep(options.pauseMs);
      }
    }
  }

  const running = Promise.all(Array.from({ length: options.workers }, () => worker()));
  return {
    result,
    async stop(): Promise<ChaosLoadResult> {
      stopping = true;
      await running;
      users.close();
      orders.close();
      return result;
    },
  };
}

function callWith<T>(
  client: grpc.Client,
  method: string,
  request: object,
  metadata: grpc.Metadata | undefined,
): Promise<T> {
  return call<T>(client, method, request, 3000, metadata);
}
