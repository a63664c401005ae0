import { uuidPattern } from '@conveyor/platform/validation';
import type { Notification } from './notification-store.ts';

/**
 * A message the consumer gave up on, or a delivery the scheduler gave up on, as stored in the
 * dead-letter stream.
 */
export interface DeadLetter {
  /** Sequence in the dead-letter stream. */
  id: string;
  consumer: string;
  originalSubject: string;
  originalStream: string;
  originalSequence: number;
  reason: string;
  deliveries: number;
  attempts: number | undefined;
  failedAt: Date | undefined;
  eventId: string | undefined;
  eventType: string | undefined;
  /** Set for a given-up delivery: redriving it requeues this notification (nothing is republished). */
  notificationId: string | undefined;
  headers: ReadonlyMap<string, string>;
  payload: Uint8Array;
}

/**
 * A delivery the scheduler gave up on (its notification named), not a message the consumer gave up
 * on: redriving requeues the notification, and it heads no sequence (ADR 0031).
 */
export function isGivenUpDelivery(
  deadLetter: DeadLetter,
): deadLetter is DeadLetter & { notificationId: string } {
  return deadLetter.notificationId !== undefined && uuidPattern.test(deadLetter.notificationId);
}

/**
 * Which dead letters a purge removed: those of these original messages, or every one stored up
 * to `through` (a dead letter id), of one original subject or of all.
 */
export type PurgedDeadLetters =
  | { positions: { stream: string; streamSequence: number }[] }
  | { through: number; subject: string | undefined };

export interface DeadLetterFilter {
  /** Original subject, exactly. */
  subject?: string | undefined;
  /** Case-insensitive substring of the reason. */
  reasonContains?: string | undefined;
}

/** This consumer's dead letters. Implementations bound every scan. */
export interface DeadLetterQueue {
  /** Oldest first, from after `afterId`; `next` is where the next page starts (undefined: the end). */
  list(
    filter: DeadLetterFilter,
    afterId: string | undefined,
    limit: number,
  ): Promise<{ items: DeadLetter[]; next: string | undefined }>;
  get(id: string): Promise<DeadLetter | undefined>;
  /**
   * Stores a dead letter again under a new reason (redriven, it failed the same way): same
   * original headers and payload, one copy per redrive of it. Resolves once stored.
   */
  readd(deadLetter: DeadLetter, reason: string): Promise<void>;
  /** false when it was not there (removed meanwhile). */
  remove(id: string): Promise<boolean>;
  /**
   * Records a delivery given up after its attempts (or its maximum age): the dead letter names
   * the notification and carries ids only, no personal data. Resolves once stored; repeating it
   * for the same give-up stores one copy.
   */
  addDelivery(failure: { notification: Notification; reason: string }): Promise<void>;
  /**
   * Removes every dead letter of this consumer stored so far, or those of one original subject:
   * how many, and the last id the purge covered.
   */
  purge(subject: string | undefined): Promise<{ purged: number; through: number }>;
}
