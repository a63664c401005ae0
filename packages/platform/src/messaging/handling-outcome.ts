import { type CloudEvent, decodeEvent, PoisonMessageError } from './cloud-event.ts';

export interface Delivery {
  subject: string;
  stream: string;
  streamSequence: number;
  /** 1 on the first delivery. */
  deliveryCount: number;
}

/** One decoded message of a batch. */
export interface ReceivedEvent {
  event: CloudEvent;
  delivery: Delivery;
}

/**
 * What became of one message: done (ack), try again later (nak with a delay; the consumer's
 * backoff step when none is given), or never (dead letter now, with the reason and, when the
 * handler kept its own count, its attempts).
 */
export type HandlingOutcome =
  | { kind: 'ack' }
  | { kind: 'retry'; reason: string; delayMs?: number | undefined }
  | { kind: 'dead-letter'; reason: string; attempts?: number | undefined };

/**
 * Handles a batch of events, in stream order, and says what became of each (same length and
 * order). Contract: a message may come again (at-least-once), in another batch, after later
 * ones; the effect must be idempotent (see recordInInbox). A throw means the whole batch failed:
 * the consumer then handles each message alone, so one bad message never fails its batch-mates.
 */
export type BatchHandler = (batch: readonly ReceivedEvent[]) => Promise<HandlingOutcome[]>;

/**
 * Handles one event. Resolve = done. Throw PoisonMessageError = never retry; GiveUp = the
 * handler's own budget is spent; RetryLater = retry after its delay; anything else = retry with
 * the consumer's backoff.
 */
export type EventHandler = (event: CloudEvent, delivery: Delivery) => Promise<void>;

/** Thrown by a handler that wants the message again after `delayMs` rather than the consumer's backoff step. */
export class RetryLater extends Error {
  override name = 'RetryLater';
  readonly delayMs: number;
  constructor(message: string, delayMs: number) {
    super(message);
    this.delayMs = delayMs;
  }
}

/** Thrown by a handler that keeps its own attempt count and has spent it: dead-letter now. */
export class GiveUp extends Error {
  override name = 'GiveUp';
  readonly attempts: number | undefined;
  constructor(message: string, attempts?: number) {
    super(message);
    this.attempts = attempts;
  }
}

/** The outcome a handler's error means. */
export function outcomeOfError(error: unknown): HandlingOutcome {
  const message = (error as Error)?.message ?? String(error);
  if (error instanceof PoisonMessageError) return { kind: 'dead-letter', reason: `poison: ${message}` };
  if (error instanceof GiveUp)
    return { kind: 'dead-letter', reason: `gave up: ${message}`, attempts: error.attempts };
  if (error instanceof RetryLater) return { kind: 'retry', reason: message, delayMs: error.delayMs };
  return { kind: 'retry', reason: message };
}

/**
 * Hands a stored message (a dead letter being redriven) to the consumer's own handler, in this
 * process: redelivery never publishes to the subject of the service that owns it (ADR 0025).
 * A message that still cannot be decoded is a dead letter again; the handler's inbox makes a
 * repeated redrive harmless.
 */
export async function handleAgain(
  handler: BatchHandler,
  message: { headers: ReadonlyMap<string, string>; payload: Uint8Array; delivery: Delivery },
): Promise<HandlingOutcome> {
  try {
    const event = decodeEvent(message.headers, message.payload);
    const [outcome] = await handler([{ event, delivery: message.delivery }]);
    return outcome ?? { kind: 'retry', reason: 'the handler gave no outcome' };
  } catch (error) {
    return outcomeOfError(error);
  }
}

/** A per-event handler as a batch handler: the events of a batch are handled at once, each on its own. */
export function eachEvent(handler: EventHandler): BatchHandler {
  return (batch) =>
    Promise.all(
      batch.map(({ event, delivery }) =>
        handler(event, delivery).then(
          (): HandlingOutcome => ({ kind: 'ack' }),
          (error: unknown) => outcomeOfError(error),
        ),
      ),
    );
}

/**
 * The final word on a message: a retry on its last delivery (max_deliver) becomes a dead letter,
 * and the nak delay is the handler's or the backoff step for this delivery.
 */
export function settleOutcome(
  outcome: HandlingOutcome,
  delivery: Delivery,
  policy: { maxDeliver: number; backoffMs: readonly number[] },
):
  | { kind: 'ack' }
  | { kind: 'nak'; delayMs: number; reason: string }
  | { kind: 'dead-letter'; reason: string; attempts: number | undefined } {
  switch (outcome.kind) {
    case 'ack':
      return outcome;
    case 'dead-letter':
      return { kind: 'dead-letter', reason: outcome.reason, attempts: outcome.attempts };
    case 'retry':
      if (delivery.deliveryCount >= policy.maxDeliver) {
        return {
          kind: 'dead-letter',
          reason: `failed after ${delivery.deliveryCount} attempts: ${outcome.reason}`,
          attempts: undefined,
        };
      }
      return {
        kind: 'nak',
        delayMs: outcome.delayMs ?? backoffStep(policy.backoffMs, delivery.deliveryCount),
        reason: outcome.reason,
      };
    default: {
      const unreachable: never = outcome;
      throw new Error(`unknown outcome ${JSON.stringify(unreachable)}`);
    }
  }
}

/** The delay for the n-th attempt (1-based); the last step repeats. */
export function backoffStep(backoffMs: readonly number[], attempt: number): number {
  return backoffMs[Math.min(Math.max(attempt, 1), backoffMs.length) - 1] ?? 1000;
}
