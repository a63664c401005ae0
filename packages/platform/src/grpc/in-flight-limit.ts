import { type Metadata, type ServiceDefinition, status } from '@grpc/grpc-js';
import { Gauge, type Registry } from 'prom-client';
import { mapHandlers } from './map-handlers.ts';

type Handler = (call: CallLike, callback?: (error: unknown, ...rest: unknown[]) => void) => unknown;
interface CallLike {
  metadata: Metadata;
  once?(event: string, listener: (...args: unknown[]) => void): unknown;
}

/**
 * A separate allowance for some methods (admission per purpose): calls of `methods` count against
 * `limit` only, never against the shared one, so a flood of them cannot crowd out the rest.
 */
export interface AdmissionPool {
  /** Label of its gauges, e.g. `password`. */
  name: string;
  limit: number;
  /** Method names as in the proto, e.g. `Authenticate`. */
  methods: readonly string[];
}

interface Allowance {
  name: string;
  limit: number;
  inFlight: number;
}

/**
 * Unary calls a process runs at once, across all its services (ADR 0017), in a shared allowance
 * and in the pools some methods have of their own. One per process, so `createGrpcServer` can be
 * called for several services and share it.
 */
export class InFlightLimit {
  readonly limit: number;
  readonly #shared: Allowance;
  readonly #byMethod = new Map<string, Allowance>();

  constructor(limit: number, registry?: Registry, pools: readonly AdmissionPool[] = []) {
    const checked = (name: string, n: number) => {
      if (!Number.isInteger(n) || n < 1) throw new Error(`in-flight limit of ${name} must be ≥ 1, got ${n}`);
      return { name, limit: n, inFlight: 0 };
    };
    this.limit = limit;
    this.#shared = checked('shared', limit);
    const allowances = [this.#shared];
    for (const pool of pools) {
      const allowance = checked(pool.name, pool.limit);
      allowances.push(allowance);
      for (const method of pool.methods) this.#byMethod.set(method, allowance);
    }
    if (registry && !registry.getSingleMetric('rpc_server_in_flight')) {
      new Gauge({
        name: 'rpc_server_in_flight',
        help: 'Unary gRPC calls being handled, by admission pool; at rpc_server_in_flight_limit new calls of the pool are refused (UNAVAILABLE).',
        labelNames: ['pool'],
        registers: [registry],
        collect() {
          for (const a of allowances) this.set({ pool: a.name }, a.inFlight);
        },
      });
      const limits = new Gauge({
        name: 'rpc_server_in_flight_limit',
        help: 'Unary gRPC calls a pool handles at once before new ones are refused: GRPC_MAX_IN_FLIGHT for the shared pool.',
        labelNames: ['pool'],
        registers: [registry],
      });
      for (const a of allowances) limits.set({ pool: a.name }, a.limit);
    }
  }

  /** Calls in flight in the shared allowance. */
  get inFlight(): number {
    return this.#shared.inFlight;
  }

  /**
   * `implementation` with every unary handler admitted only under its allowance (its pool's, or
   * the shared one). Beyond it the call
   * fails at once with UNAVAILABLE (safe to retry with backoff: nothing ran), before the request
   * is checked or any work is queued, so an overload costs neither memory nor latency of the
   * calls already admitted. A slot is released when the handler answers or the caller cancels
   * (a deadline), whichever comes first. Streams are not limited.
   */
  wrap(
    // biome-ignore lint/suspicious/noExplicitAny: grpc-js service definitions are untyped at this level.
    definition: ServiceDefinition<any>,
    implementation: Record<string, Handler>,
  ): Record<string, Handler> {
    return mapHandlers(definition, implementation, (method, original) => {
      if (method.requestStream || method.responseStream) return original;
      const allowance =
        this.#byMethod.get(method.path.slice(method.path.lastIndexOf('/') + 1)) ?? this.#shared;
      const label = allowance === this.#shared ? '' : `${allowance.name} `;
      return (call, callback) => {
        if (!callback) return original.call(implementation, call);
        if (allowance.inFlight >= allowance.limit) {
          callback({
            code: status.UNAVAILABLE,
            details: `overloaded: ${allowance.limit} ${label}calls in flight; retry with backoff`,
          });
          return undefined;
        }
        allowance.inFlight++;
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          allowance.inFlight--;
        };
        call.once?.('cancelled', release);
        return original.call(implementation, call, (error: unknown, ...rest: unknown[]) => {
          release();
          callback(error, ...rest);
        });
      };
    });
  }
}
