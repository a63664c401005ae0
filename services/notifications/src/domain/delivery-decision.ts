/**
 * What happened when one notification was offered to its channel.
 * - sent: the server accepted it.
 * - held: the channel's circuit breaker is open; nothing was sent, so it is
 *   not an attempt and does not spend the notification's budget.
 * - failed: a send was tried and failed. `permanent` when retrying cannot
 *   help (a 5xx mail reply, a 4xx webhook answer); `probe` when it was the
 *   breaker's half-open trial call, whose failure is the channel's, not the
 *   notification's, so it is recorded but not counted against the budget.
 * - target-gone: the webhook was deleted meanwhile.
 */
export type SendOutcome =
  | { kind: 'sent' }
  | { kind: 'held'; retryInMs: number; reason: string }
  | { kind: 'failed'; error: string; permanent: boolean; probe: boolean }
  | { kind: 'target-gone'; reason: string };

export interface DeliveryPolicy {
  /** Counted failures after which a notification is given up. */
  maxAttempts: number;
  /** Retry delays by counted failure (1st, 2nd, …); the last repeats. */
  backoffMs: readonly number[];
  /** This is the event's last delivery: whatever is not sent now is given up. */
  lastDelivery: boolean;
  /**
   * A held notification is retried after at least this long (the consumer's
   * backoff step for this delivery), so a long outage spreads redeliveries out.
   */
  holdFloorMs: number;
}

export interface DeliveryDecision {
  status: 'pending' | 'sent' | 'failed' | 'cancelled';
  /** A send was tried (attempts + 1). */
  attempted: boolean;
  /** The failure counts against the budget (failures + 1). */
  counted: boolean;
  /** New last error; null clears it, undefined keeps it. */
  lastError: string | null | undefined;
  /** When still pending: retry after this long (before jitter). */
  retryInMs: number | undefined;
}

/** Decides a notification's next state from its counted failures so far and what the send did. */
export function decideDelivery(
  failuresSoFar: number,
  outcome: SendOutcome,
  policy: DeliveryPolicy,
): DeliveryDecision {
  switch (outcome.kind) {
    case 'sent':
      return { status: 'sent', attempted: true, counted: false, lastError: null, retryInMs: undefined };
    case 'target-gone':
      return {
        status: 'cancelled',
        attempted: false,
        counted: false,
        lastError: outcome.reason,
        retryInMs: undefined,
      };
    case 'held':
      return policy.lastDelivery
        ? {
            status: 'failed',
            attempted: false,
            counted: false,
            lastError: `${outcome.reason} at the event's last delivery`,
            retryInMs: undefined,
          }
        : {
            status: 'pending',
            attempted: false,
            counted: false,
            lastError: undefined,
            retryInMs: Math.max(outcome.retryInMs, policy.holdFloorMs),
          };
    case 'failed': {
      const counted = !outcome.probe;
      const failures = failuresSoFar + (counted ? 1 : 0);
      const givenUp = outcome.permanent || failures >= policy.maxAttempts || policy.lastDelivery;
      return {
        status: givenUp ? 'failed' : 'pending',
        attempted: true,
        counted,
        lastError: outcome.error,
        retryInMs: givenUp ? undefined : backoff(policy.backoffMs, failures),
      };
    }
    default: {
      const unreachable: never = outcome;
      throw new Error(`unknown send outcome ${JSON.stringify(unreachable)}`);
    }
  }
}

function backoff(delays: readonly number[], failures: number): number {
  return delays[Math.min(Math.max(failures, 1), delays.length) - 1] ?? 1000;
}
