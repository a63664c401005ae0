import type { Notification } from './notification-store.ts';

/** A due delivery this replica holds for a while: it may send it, then must settle it. */
export interface ClaimedDelivery {
  notification: Notification;
  bulkhead: string;
  /** For webhook notifications: where and how to sign; undefined when the webhook was deleted. */
  webhook: { url: string; secret: string } | undefined;
  /** This claim's token: a settle with another token changes nothing (the lease moved on). */
  claim: string;
  /** W3C trace context of the handling that recorded it, when there was one. */
  traceparent: string | undefined;
}

/** How a claimed delivery ends this round. */
export interface Settlement {
  id: string;
  claim: string;
  status: 'pending' | 'sent' | 'failed' | 'cancelled';
  attempted: boolean;
  counted: boolean;
  /** New last error; null clears it, undefined keeps it. */
  lastError: string | null | undefined;
  /** When it happened (sent_at, last_attempt_at). */
  at: Date;
  /** Still pending: due again at this time; undefined keeps its due time (claimable at once). */
  retryAt: Date | undefined;
}

export interface ClaimRequest {
  /** A token naming this claim; unique per call. */
  claim: string;
  /** Rows claimed at most in all. */
  total: number;
  /** Rows at most per bulkhead; 0 skips one (its breaker is open, or it has enough in hand). */
  perBulkhead: ReadonlyMap<string, number>;
  /** For bulkheads not in perBulkhead. */
  defaultPerBulkhead: number;
  /** The claim expires after this long: a crashed replica's deliveries become due again. */
  leaseMs: number;
}

/**
 * Deliveries due now, scheduled in Postgres and shared by every replica.
 *
 * Contract:
 * - claim: takes due, unclaimed (or lease-expired) deliveries, oldest due first within each
 *   bulkhead, never more than asked per bulkhead; two claimers never get the same row while its
 *   lease runs. The claim holds no transaction open: sends happen outside any.
 * - settle: applies many outcomes in one round trip. An outcome is applied only while its row is
 *   still held by that claim: after a lease expired and another replica claimed the row, the late
 *   outcome changes nothing (the delivery may then have been sent twice, with the same
 *   Message-ID or Idempotency-Key: the documented resend window).
 * - a settled row leaves the schedule (sent, failed, cancelled) or becomes due at `retryAt`,
 *   unclaimed; failed ones are dead-lettered by the caller before they are settled.
 */
export interface DeliveryQueue {
  claim(request: ClaimRequest): Promise<ClaimedDelivery[]>;
  settle(outcomes: readonly Settlement[]): Promise<void>;
  /**
   * Reclaims the space of settled deliveries now. Every delivery is inserted and deleted within
   * moments, so the schedule is mostly dead rows between autovacuum's rounds (a minute apart):
   * claims and settles would wade through them. Cheap on a small table; skipped when another
   * replica is doing it.
   */
  compact(): Promise<void>;
}

/** A claim taken while recording: the recording replica sends what it recorded without claiming it. */
export interface HandOff {
  bulkhead: string;
  claim: string;
  leaseMs: number;
}

/**
 * The hot path around the claim query: deliveries recorded by this replica on a bulkhead it can
 * send to soon are recorded already claimed by it, and handed over in memory once committed.
 */
export interface DeliveryHandOff {
  /** A claim for deliveries to be recorded on `bulkhead` now; undefined when they should wait for a claim. */
  reserve(bulkhead: string): HandOff | undefined;
  /** The deliveries recorded under a reserved claim, after their transaction committed. */
  accept(deliveries: readonly ClaimedDelivery[]): void;
  /** Deliveries were recorded that nobody holds yet: claim them now rather than at the next poll. */
  wake(): void;
}
