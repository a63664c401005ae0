import { counter, gauge } from '@conveyor/platform';
import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
} from 'cockatiel';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { SendFailed, type SendGuard } from '../app/send-guard.ts';
import type { SendOutcome } from '../domain/delivery-decision.ts';

export interface CircuitBreakerGuardOptions {
  /** Consecutive transient failures that open a breaker. */
  threshold: number;
  /** How long an open breaker holds sends back before one trial call. */
  halfOpenAfterMs: number;
  logger: Logger;
  registry: Registry;
  /** Breakers kept at most (one per key); closed ones are dropped beyond it. */
  maxBreakers?: number;
}

interface Breaker {
  policy: CircuitBreakerPolicy;
  openedAt: number;
}

/** Ordered by severity, like the resilience pipeline's gauge: `== 2` is open. */
const gaugeValue = (state: CircuitState): number =>
  state === CircuitState.Closed ? 0 : state === CircuitState.HalfOpen ? 1 : 2;

const stateNames: Record<number, string> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * One cockatiel circuit breaker per bulkhead ("smtp", "webhook:<webhook id>"),
 * so a dead mail server or one customer's dead endpoint stops costing every
 * notification an attempt, and the scheduler stops claiming for it. Only transient failures count (a permanent
 * refusal says nothing about the channel's health). While a breaker is open
 * or its single half-open trial is in flight, sends are held back (nothing is
 * sent), with the time left until the next trial as the retry hint. State
 * changes are logged and exported as conveyor_circuit_breaker_state
 * {downstream} with the resilience pipeline's encoding (0 closed, 1 half-open,
 * 2 open), so one alert rule and one dashboard read every breaker.
 */
export class CircuitBreakerGuard implements SendGuard {
  readonly #options: CircuitBreakerGuardOptions;
  readonly #breakers = new Map<string, Breaker>();
  readonly #state;
  readonly #held;
  readonly #transitions;

  constructor(options: CircuitBreakerGuardOptions) {
    this.#options = options;
    this.#state = gauge(options.registry, {
      name: 'conveyor_circuit_breaker_state',
      help: 'Circuit breaker state per downstream: 0 closed, 1 half-open, 2 open',
      labelNames: ['downstream'],
    });
    this.#held = counter(options.registry, {
      name: 'conveyor_circuit_breaker_held_total',
      help: 'Sends held back (not tried, not counted as attempts) because the breaker was open.',
      labelNames: ['downstream'],
    });
    this.#transitions = counter(options.registry, {
      name: 'conveyor_circuit_breaker_transitions_total',
      help: 'Circuit breaker state changes, by the state entered.',
      labelNames: ['downstream', 'state'],
    });
  }

  admits(key: string): number {
    const breaker = this.#breakers.get(key);
    if (!breaker) return Number.POSITIVE_INFINITY;
    switch (breaker.policy.state) {
      case CircuitState.Closed:
        return Number.POSITIVE_INFINITY;
      case CircuitState.Open:
        // Its wait is over: the next send is the trial.
        return Date.now() >= breaker.openedAt + this.#options.halfOpenAfterMs ? 1 : 0;
      default:
        return 0; // half-open (a trial in flight) or isolated
    }
  }

  async run(
    key: string,
    send: () => Promise<void>,
  ): Promise<Exclude<SendOutcome, { kind: 'target-gone' } | { kind: 'expired' }>> {
    const breaker = this.#breaker(key);
    const state = breaker.policy.state;
    if (state === CircuitState.HalfOpen || state === CircuitState.Isolated) {
      return this.#heldBack(key, Math.ceil(this.#options.halfOpenAfterMs / 2), 'trial send in flight');
    }
    // An open breaker whose wait is over turns this call into its trial.
    const probe = state === CircuitState.Open;
    try {
      await breaker.policy.execute(() => send());
      return { kind: 'sent' };
    } catch (error) {
      if (error instanceof BrokenCircuitError) {
        const left = breaker.openedAt + this.#options.halfOpenAfterMs - Date.now();
        return this.#heldBack(key, Math.max(left, 0), 'open');
      }
      return {
        kind: 'failed',
        error: (error as Error)?.message ?? String(error),
        permanent: error instanceof SendFailed && error.permanent,
        probe,
      };
    }
  }

  #heldBack(
    key: string,
    retryInMs: number,
    why: string,
  ): Exclude<SendOutcome, { kind: 'target-gone' } | { kind: 'expired' }> {
    this.#held.inc({ downstream: key });
    return { kind: 'held', retryInMs, reason: `circuit ${key} ${why}` };
  }

  #breaker(key: string): Breaker {
    const existing = this.#breakers.get(key);
    if (existing) return existing;
    this.#evictClosed();
    const policy = circuitBreaker(
      handleWhen((error) => !(error instanceof SendFailed && error.permanent)),
      {
        halfOpenAfter: this.#options.halfOpenAfterMs,
        breaker: new ConsecutiveBreaker(this.#options.threshold),
      },
    );
    const breaker: Breaker = { policy, openedAt: 0 };
    policy.onBreak(() => {
      breaker.openedAt = Date.now();
    });
    policy.onStateChange((state) => {
      const name = stateNames[state] ?? String(state);
      this.#state.set({ downstream: key }, gaugeValue(state));
      this.#transitions.inc({ downstream: key, state: name });
      const lastError = (policy.lastFailure as { error?: Error } | undefined)?.error?.message;
      const log = { breaker: key, state: name, lastError, halfOpenAfterMs: this.#options.halfOpenAfterMs };
      if (state === CircuitState.Closed) this.#options.logger.info(log, 'circuit breaker closed');
      else this.#options.logger.warn(log, `circuit breaker ${name}`);
    });
    this.#state.set({ downstream: key }, gaugeValue(CircuitState.Closed));
    this.#breakers.set(key, breaker);
    return breaker;
  }

  #evictClosed(): void {
    if (this.#breakers.size < (this.#options.maxBreakers ?? 1000)) return;
    for (const [key, breaker] of this.#breakers) {
      if (breaker.policy.state === CircuitState.Closed) {
        this.#breakers.delete(key);
        this.#state.remove({ downstream: key });
      }
    }
  }
}
