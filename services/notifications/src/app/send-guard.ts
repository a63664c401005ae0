import type { SendOutcome } from '../domain/delivery-decision.ts';

/**
 * A send that failed in a known way. `permanent` when retrying cannot help
 * (the server refused this message for good); transient otherwise.
 */
export class SendFailed extends Error {
  override name = 'SendFailed';
  readonly permanent: boolean;
  constructor(message: string, permanent: boolean) {
    super(message);
    this.permanent = permanent;
  }
}

/**
 * Runs sends to one channel target (`key`, a bulkhead: "smtp", "webhook:<id>") behind a circuit
 * breaker. Never throws: it reports sent, failed (permanent or not, and whether the call was the
 * breaker's half-open probe) or held (the breaker is open and nothing was sent).
 */
export interface SendGuard {
  run(
    key: string,
    send: () => Promise<void>,
  ): Promise<Exclude<SendOutcome, { kind: 'target-gone' } | { kind: 'expired' }>>;
  /**
   * How many sends to `key` may start now: Infinity while its breaker is closed, 1 when an open
   * breaker's wait is over (its trial), 0 while it is open or its trial is in flight.
   */
  admits(key: string): number;
}
