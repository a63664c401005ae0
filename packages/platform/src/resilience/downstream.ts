import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  type IBackoff,
  type IBackoffFactory,
  type IPolicy,
  retry,
  TaskCancelledError,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AppError } from '../errors.ts';
import { gauge } from '../observability/metrics.ts';
import { backoffDelay, type ResilienceOptions, resilienceOptions } from './resilience-options.ts';
import { isTransientFailure } from './transient-failure.ts';

export type BreakerState = 'closed' | 'half-open' | 'open';

/** What one attempt is given: its deadline, and a signal aborted when it passes. */
export interface Attempt {
  deadline: Date;
  signal: AbortSignal;
}

export interface CallOptions {
  /** Safe to repeat: only these calls are retried. */
  idempotent: boolean;
}

export interface DownstreamDeps {
  logger: Logger;
  registry?: Registry;
  /** Jitter source in [0, 1); tests pass a fixed one. */
  random?: () => number;
}

const gaugeValue: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * One protected downstream: per-attempt deadline → circuit breaker → retry.
 * Retries wrap the breaker, so every attempt counts towards it and an open
 * breaker stops the retries at once. Transient failures that survive the
 * pipeline, and an open breaker, become AppError UNAVAILABLE naming the
 * downstream; other errors pass through untouched.
 */
export class Downstream {
  readonly name: string;
  readonly options: ResilienceOptions;
  readonly #breaker;
  readonly #once: IPolicy;
  readonly #retried: IPolicy;
  readonly #logger: Logger;
  #openedAt = 0;

  constructor(name: string, options: Partial<ResilienceOptions>, deps: DownstreamDeps) {
    this.name = name;
    this.options = resilienceOptions(options);
    this.#logger = deps.logger.child({ downstream: name });
    const transient = handleWhen(isTransientFailure);
    const deadline = timeout(this.options.deadlineMs, TimeoutStrategy.Aggressive);
    this.#breaker = circuitBreaker(transient, {
      breaker: new ConsecutiveBreaker(this.options.consecutiveFailures),
      halfOpenAfter: this.options.halfOpenAfterMs,
    });
    const retries = retry(transient, {
      maxAttempts: this.options.maxAttempts - 1,
      backoff: jitteredBackoff(this.options, deps.random ?? Math.random),
    });
    this.#once = wrap(this.#breaker, deadline);
    this.#retried = wrap(retries, this.#breaker, deadline);
    this.#observe(deps.registry);
  }

  get state(): BreakerState {
    return stateName(this.#breaker.state);
  }

  /** Runs `fn` through the pipeline; see the class comment for what it throws. */
  async call<T>(fn: (attempt: Attempt) => Promise<T>, options: CallOptions): Promise<T> {
    const policy = options.idempotent ? this.#retried : this.#once;
    try {
      return await policy.execute(({ signal }) =>
        fn({ deadline: new Date(Date.now() + this.options.deadlineMs), signal }),
      );
    } catch (error) {
      throw this.#translate(error);
    }
  }

  #translate(error: unknown): unknown {
    if (error instanceof BrokenCircuitError) {
      const left = Math.max(0, this.#openedAt + this.options.halfOpenAfterMs - Date.now());
      return new AppError(
        'UNAVAILABLE',
        `${this.name} service circuit open; retry after ${Math.ceil(left / 1000)} s`,
      );
    }
    if (error instanceof TaskCancelledError) {
      return new AppError(
        'UNAVAILABLE',
        `${this.name} service did not answer within ${this.options.deadlineMs} ms`,
      );
    }
    if (isTransientFailure(error) && !(error instanceof AppError)) {
      return new AppError('UNAVAILABLE', `${this.name} service unavailable: ${(error as Error).message}`);
    }
    return error;
  }

  #observe(registry: Registry | undefined): void {
    const metric = gauge(registry, {
      name: 'conveyor_circuit_breaker_state',
      help: 'Circuit breaker state per downstream: 0 closed, 1 half-open, 2 open',
      // Notifications' channel breakers (ADR 0009) export the same metric with the same
      // label and encoding, so one alert rule reads every breaker.
      labelNames: ['downstream'] as const,
    });
    metric?.set({ downstream: this.name }, 0);
    this.#breaker.onBreak(() => {
      this.#openedAt = Date.now();
    });
    this.#breaker.onStateChange((state) => {
      const name = stateName(state);
      metric?.set({ downstream: this.name }, gaugeValue[name]);
      const log = { state: name, halfOpenAfterMs: this.options.halfOpenAfterMs };
      if (name === 'open') this.#logger.warn(log, `${this.name} circuit breaker opened`);
      else this.#logger.info(log, `${this.name} circuit breaker ${name}`);
    });
  }
}

function stateName(state: CircuitState): BreakerState {
  if (state === CircuitState.Closed) return 'closed';
  if (state === CircuitState.HalfOpen) return 'half-open';
  return 'open';
}

function jitteredBackoff(options: ResilienceOptions, random: () => number): IBackoffFactory<unknown> {
  const at = (attempt: number): IBackoff<unknown> => ({
    duration: backoffDelay(options, attempt, random),
    next: () => at(attempt + 1),
  });
  return { next: () => at(1) };
}
