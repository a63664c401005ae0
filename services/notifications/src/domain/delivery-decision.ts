/**
 * What happened when one notification was offered to its channel.
 * - sent: the server accepted it.
 * - held: the target's circuit breaker is open; nothing was sent, so it is
 *   not an attempt and does not spend the notification's budget.
 * - failed: a send was tried and failed. `permanent` when retrying cannot
 *   help (a 5xx mail reply, a 4xx webhook answer); `probe` when it was the
 *   breaker's half-open trial call, whose failure is the target's, not the
 *   notification's, so it is recorded but not counted against the budget.
 * - target-gone: the webhook was deleted meanwhile.
 * - expired: not sent within the delivery's maximum age; nothing was tried.
 */
export type SendOutcome =
  | { kind: 'sent' }
  | { kind: 'held'; retryInMs: number; reason: string }
  | { kind: 'failed'; error: string; permanent: boolean; probe: boolean }
  | { kind: 'target-gone'; reason: string }
  | { kind: 'expired'; reason: string };

export interface DeliveryPolicy {
  /** Counted failures after which a notification is given up. */
  maxAttempts: number;
  /** Retry delays by counted failure (1st, 2nd, …); the last repeats. */
  backoffMs: readonly number[];
}

export interface DeliveryDecision {
  status: 'pending' | 'sent' | 'failed' | 'cancelled';
  /** A send was tried (attempts + 1). */
  attempted: boolean;
  /** The failure counts against the budget (failures + 1). */
  counted: boolean;
  /** New last error; null clears it, undefined keeps it. */
  lastError: string | null | undefined;
  /**
   * When still pending: try again after this long (before jitter); undefined
   * when it may go again as soon as its target takes sends (a held one).
   */
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
    case 'expired':
      return {
        status: 'failed',
        attempted: false,
        counted: false,
        lastError: outcome.reason,
        retryInMs: undefined,
      };
    case 'held':
      // Nothing was tried: the breaker decides when the target takes sends again.
      return {
        status: 'pending',
        attempted: false,
        counted: false,
        lastError: undefined,
        retryInMs: undefined,
      };
    case 'failed': {
      const counted = !outcome.probe;
      const failures = failuresSoFar + (counted ? 1 : 0);
      const givenUp = outcome.permanent || failures >= policy.maxAttempts;
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

/**
 * The bulkhead a notification is delivered through: its channel and target. Each has its own
 * circuit breaker, concurrency and queue of due deliveries, so one target's outage or slowness
 * never holds another's.
 */
export function bulkheadOf(channel: 'email' | 'webhook', webhookId: string | undefined): string {
  return channel === 'email' ? 'smtp' : `webhook:${webhookId ?? ''}`;
}
