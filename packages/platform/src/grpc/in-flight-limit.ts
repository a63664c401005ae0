import { type Metadata, type ServiceDefinition, status } from '@grpc/grpc-js';
import { Gauge, type Registry } from 'prom-client';
import { mapHandlers } from './map-handlers.ts';

type Handler = (call: CallLike, callback?: (error: unknown, ...rest: unknown[]) => void) => unknown;
interface CallLike {
  metadata: Metadata;
  once?(event: string, listener: (...args: unknown[]) => void): unknown;
}

/**
 * Unary calls a process runs at once, across all its services (ADR 0017). One per
 * process, so `createGrpcServer` can be called for several services and share it.
 */
export class InFlightLimit {
  readonly limit: number;
  #inFlight = 0;

  constructor(limit: number, registry?: Registry) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`in-flight limit must be ≥ 1, got ${limit}`);
    this.limit = limit;
    if (registry && !registry.getSingleMetric('rpc_server_in_flight')) {
      const self = this;
      new Gauge({
        name: 'rpc_server_in_flight',
        help: 'Unary gRPC calls being handled; at rpc_server_in_flight_limit new calls are refused (UNAVAILABLE).',
        registers: [registry],
        collect() {
          this.set(self.#inFlight);
        },
      });
      new Gauge({
        name: 'rpc_server_in_flight_limit',
        help: 'GRPC_MAX_IN_FLIGHT: unary gRPC calls handled at once before new ones are refused.',
        registers: [registry],
      }).set(limit);
    }
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * `implementation` with every unary handler admitted only under the limit. Beyond it the call
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
      return (call, callback) => {
        if (!callback) return original.call(implementation, call);
        if (this.#inFlight >= this.limit) {
          callback({
            code: status.UNAVAILABLE,
            details: `overloaded: ${this.limit} calls in flight; retry with backoff`,
          });
          return undefined;
        }
        this.#inFlight++;
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          this.#inFlight--;
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
