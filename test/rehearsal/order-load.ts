import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { bearerMetadata } from '@conveyor/platform/auth';
import { call, independentClient } from '@conveyor/stack/testing';
import type * as grpc from '@grpc/grpc-js';
import { Metadata, status } from '@grpc/grpc-js';

/** One accepted order as its client saw it. */
/** A command after PlaceOrder, and what its caller knows of it: answered OK, or no answer in the end. */
export type OrderCommand = { kind: 'pay' | 'ship' | 'deliver' | 'cancel'; outcome: 'ok' | 'unknown' };

export interface AcceptedOrder {
  orderId: string;
  userId: string;
  idempotencyKey: string;
  paid: boolean;
  /** Every command sent after PlaceOrder, in order (a refused one is not listed: it changed nothing). */
  commands?: OrderCommand[];
  /** Milliseconds since the load started. */
  at: number;
}

export interface LoadOptions {
  usersAddresses: () => string[];
  ordersAddresses: () => string[];
  /** Concurrent clients, each: create a user, place an order, pay it, repeat. */
  workers: number;
  /** Pause between one client's commands. */
  pauseMs: number;
  /** Upper bound on orders placed, whatever the time. */
  maxOrders: number;
  /** Attempts per command (round-robin over replicas, with backoff) before it is given up. */
  attempts: number;
}

export interface LoadResult {
  accepted: AcceptedOrder[];
  usersCreated: number;
  /** Different order ids returned for one idempotency key: must stay 0. */
  duplicateOrdersForKey: number;
  /** Commands whose outcome stayed unknown after every attempt (never counted as accepted). */
  gaveUp: { command: string; code: string }[];
  /** Retried attempts by gRPC status code. */
  retries: Record<string, number>;
  /** Successful commands' times (ms since start), for stall measurement. */
  successes: number[];
  /** The slowest command including its retries, ms. */
  slowestCommandMs: number;
  durationMs: number;
}

// Codes after which a retry with the same request is safe and may succeed elsewhere.
const retryable = new Set<number>([
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
  status.ABORTED,
  status.INTERNAL,
  status.UNKNOWN,
  status.CANCELLED,
  status.RESOURCE_EXHAUSTED,
]);

/**
 * Round-robin over the replicas' addresses with simple outlier ejection, as a client-side load
 * balancer does: an address whose call failed with UNAVAILABLE is skipped for a second.
 */
class RoundRobin {
  readonly #clients = new Map<string, grpc.Client>();
  readonly #downUntil = new Map<string, number>();
  #next = 0;
  readonly #addresses: () => string[];
  readonly #proto: string;
  readonly #service: string;
  constructor(addresses: () => string[], proto: string, service: string) {
    this.#addresses = addresses;
    this.#proto = proto;
    this.#service = service;
  }
  pick(): { client: grpc.Client; address: string } {
    const all = this.#addresses();
    const up = all.filter((a) => (this.#downUntil.get(a) ?? 0) <= Date.now());
    const candidates = up.length ? up : all;
    const address = candidates[this.#next++ % candidates.length]!;
    let client = this.#clients.get(address);
    if (!client) {
      client = independentClient(this.#proto, this.#service, address);
      this.#clients.set(address, client);
    }
    return { client, address };
  }
  eject(address: string): void {
    this.#downUntil.set(address, Date.now() + 1000);
  }
  close(): void {
    for (const client of this.#clients.values()) client.close();
  }
}

/**
 * Steady order load through the public gRPC APIs, spread round-robin over the
 * replicas. A failed command is retried on the next replica with the same
 * request (PlaceOrder carries an idempotency key, so a retry after an
 * ambiguous failure returns the first order); bounded in attempts and time.
 */
export function startOrderLoad(options: LoadOptions) {
  const users = new RoundRobin(
    options.usersAddresses,
    'conveyor/users/v1/users.proto',
    'conveyor.users.v1.UserService',
  );
  const orders = new RoundRobin(
    options.ordersAddresses,
    'conveyor/orders/v1/orders.proto',
    'conveyor.orders.v1.OrderService',
  );
  const started = Date.now();
  const result: LoadResult = {
    accepted: [],
    usersCreated: 0,
    duplicateOrdersForKey: 0,
    gaveUp: [],
    retries: {},
    successes: [],
    slowestCommandMs: 0,
    durationMs: 0,
  };
  let stopping = false;
  let placed = 0;

  async function attempt<T>(
    name: string,
    pool: RoundRobin,
    method: string,
    request: object,
    settle?: (error: grpc.ServiceError) => T | undefined,
    token?: string,
  ): Promise<T | undefined> {
    const began = Date.now();
    let lastCode = 'none';
    for (let i = 0; i < options.attempts; i++) {
      const { client, address } = pool.pick();
      try {
        const metadata = token ? bearerMetadata(new Metadata(), token) : new Metadata();
        const response = await call<T>(client, method, request, 3000, metadata);
        result.successes.push(Date.now() - started);
        result.slowestCommandMs = Math.max(result.slowestCommandMs, Date.now() - began);
        return response;
      } catch (error) {
        const e = error as grpc.ServiceError;
        const settled = settle?.(e);
        if (settled !== undefined) return settled;
        lastCode = status[e.code] ?? String(e.code);
        if (!retryable.has(e.code)) break;
        if (e.code === status.UNAVAILABLE) pool.eject(address);
        result.retries[lastCode] = (result.retries[lastCode] ?? 0) + 1;
        await sleep(Math.min(50 * 2 ** i, 1000));
      }
    }
    result.gaveUp.push({ command: name, code: lastCode });
    return undefined;
  }

  async function worker(): Promise<void> {
    while (!stopping && placed < options.maxOrders) {
      // A retry of CreateUser after an ambiguous failure meets its own first attempt, which answers
      // the same as a new address (and mails that user about a sign-up attempt).
      const email = `load-${randomUUID()}@example.com`;
      const password = `load-${randomUUID()}`;
      const created = await attempt<Record<string, never>>('CreateUser', users, 'CreateUser', {
        email,
        name: 'Load Tester',
        password,
      });
      if (!created) continue;
      result.usersCreated++;
      // Every order command carries the customer's access token.
      const signedIn = await attempt<{ access_token: string; user: { id: string } }>(
        'Authenticate',
        users,
        'Authenticate',
        {
          email,
          password,
        },
      );
      if (!signedIn) continue;
      const token = signedIn.access_token;
      await sleep(options.pauseMs);
      if (stopping) break;
      placed++;
      const key = randomUUID();
      const request = {
        items: [{ sku: 'MUG-001', quantity: 1 }],
        idempotency_key: key,
      };
      const place = () =>
        attempt<{ order: { id: string } }>('PlaceOrder', orders, 'PlaceOrder', request, undefined, token);
      const first = await place();
      if (!first) continue;
      const order: AcceptedOrder = {
        orderId: first.order.id,
        userId: signedIn.user.id,
        idempotencyKey: key,
        paid: false,
        at: Date.now() - started,
      };
      result.accepted.push(order);
      await sleep(options.pauseMs);
      // A retry of the same key must return the same order.
      const again = await place();
      if (again && again.order.id !== order.orderId) result.duplicateOrdersForKey++;
      const paid = await attempt<{ order: unknown } | 'already'>(
        'PayOrder',
        orders,
        'PayOrder',
        { order_id: order.orderId },
        // An earlier attempt that timed out after committing leaves the order paid.
        (e) => (e.code === status.FAILED_PRECONDITION && /paid/.test(e.details) ? 'already' : undefined),
        token,
      );
      order.paid = paid !== undefined;
      // Attempted on every order: without an answer its outcome is unknown.
      order.commands = [{ kind: 'pay', outcome: order.paid ? 'ok' : 'unknown' }];
      await sleep(options.pauseMs);
    }
  }

  const running = Promise.all(Array.from({ length: options.workers }, () => worker()));
  return {
    result,
    /** Orders accepted so far. */
    get acceptedCount() {
      return result.accepted.length;
    },
    async stop(): Promise<LoadResult> {
      stopping = true;
      await running;
      users.close();
      orders.close();
      result.durationMs = Date.now() - started;
      return result;
    },
  };
}

export type OrderLoad = ReturnType<typeof startOrderLoad>;

/** The longest time without any successful command, between `from` and `to` (ms since start). */
export function longestStall(
  successes: readonly number[],
  from: number,
  to: number,
): { ms: number; at: number } {
  const times = [from, ...[...successes].filter((t) => t >= from && t <= to).sort((a, b) => a - b), to];
  let worst = { ms: 0, at: from };
  for (let i = 1; i < times.length; i++) {
    const gap = times[i]! - times[i - 1]!;
    if (gap > worst.ms) worst = { ms: gap, at: times[i - 1]! };
  }
  return worst;
}
