import { deadLetterSubject, Streams } from '@conveyor/contracts';
import type { JetStreamClient, JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { withoutAddresses } from '../observability/personal-data.ts';

/** Headers a dead letter carries beside the original message's own. */
export const DeadLetterHeaders = {
  reason: 'Conveyor-Dead-Letter-Reason',
  consumer: 'Conveyor-Dead-Letter-Consumer',
  originalSubject: 'Conveyor-Original-Subject',
  originalStream: 'Conveyor-Original-Stream',
  originalSequence: 'Conveyor-Original-Sequence',
  deliveries: 'Conveyor-Deliveries',
  /** Send attempts the handler counted itself, when it gave up on its own budget. */
  attempts: 'Conveyor-Attempts',
  failedAt: 'Conveyor-Failed-At',
  /** Set when a delivery of one notification was given up (not the message itself). */
  notificationId: 'Conveyor-Notification-Id',
} as const;

export interface FailedMessage {
  consumer: string;
  subject: string;
  stream: string;
  streamSequence: number;
  deliveries: number;
  attempts?: number | undefined;
  headers: ReadonlyMap<string, string>;
  data: Uint8Array;
  reason: string;
  /** Nats-Msg-Id; default `<consumer>:<stream>:<sequence>`. */
  msgId?: string | undefined;
}

/**
 * Publishes a message that will not be processed to the DEADLETTERS stream,
 * with its original headers and payload and why it failed. Resolves only
 * after JetStream stored it, so the caller may then `term` the original.
 * Deduplicated per (consumer, stream, sequence): a retried dead-lettering
 * stores one copy. Returns its sequence in DEADLETTERS.
 */
export async function publishDeadLetter(js: JetStreamClient, failed: FailedMessage): Promise<number> {
  const h = natsHeaders();
  for (const [key, value] of failed.headers) {
    if (key !== 'Nats-Msg-Id' && !key.startsWith('Nats-')) h.set(key, value);
  }
  // Kept for days, past any erasure: the reason names no address.
  h.set(
    DeadLetterHeaders.reason,
    withoutAddresses(failed.reason)
      .slice(0, 2000)
      .replace(/[\r\n]+/g, ' '),
  );
  h.set(DeadLetterHeaders.consumer, failed.consumer);
  h.set(DeadLetterHeaders.originalSubject, failed.subject);
  h.set(DeadLetterHeaders.originalStream, failed.stream);
  h.set(DeadLetterHeaders.originalSequence, String(failed.streamSequence));
  h.set(DeadLetterHeaders.deliveries, String(failed.deliveries));
  if (failed.attempts !== undefined) h.set(DeadLetterHeaders.attempts, String(failed.attempts));
  h.set(DeadLetterHeaders.failedAt, new Date().toISOString());
  const ack = await js.publish(deadLetterSubject(failed.consumer, failed.subject), failed.data, {
    headers: h,
    msgID: failed.msgId ?? `${failed.consumer}:${failed.stream}:${failed.streamSequence}`,
  });
  return ack.seq;
}

/** A message in the DEADLETTERS stream, as read back for inspection or redrive. */
export interface StoredDeadLetter {
  /** Its sequence in the DEADLETTERS stream. */
  seq: number;
  /** `deadletter.<consumer>.<original subject>` */
  subject: string;
  /** The original's headers plus the Conveyor dead-letter ones. */
  headers: ReadonlyMap<string, string>;
  data: Uint8Array;
}

const deadLetterStream = Streams.deadLetters.name;

/**
 * Reads one dead letter by sequence, or the first one after `after` whose
 * subject matches `subject` (wildcards allowed), without creating a
 * consumer. undefined when there is none.
 */
export async function readDeadLetter(
  jsm: JetStreamManager,
  query: { seq: number } | { after: number; subject: string },
): Promise<StoredDeadLetter | undefined> {
  // next_by_subj is understood by nats-server 2.9 (the typings only list it for direct gets).
  const request = 'seq' in query ? { seq: query.seq } : { seq: query.after + 1, next_by_subj: query.subject };
  const stored = await jsm.streams.getMessage(deadLetterStream, request as { seq: number });
  return stored ? fromStored(stored) : undefined;
}

/** false when it was not there any more. */
export async function deleteDeadLetter(jsm: JetStreamManager, seq: number): Promise<boolean> {
  try {
    return await jsm.streams.deleteMessage(deadLetterStream, seq);
  } catch (error) {
    if (/no message found|not found/i.test((error as Error).message)) return false;
    throw error;
  }
}

/**
 * Removes every dead letter stored so far whose subject matches `subject` (wildcards allowed):
 * how many, and the last DEADLETTERS sequence the purge covered (one stored since is kept).
 */
export async function purgeDeadLetters(
  jsm: JetStreamManager,
  subject: string,
): Promise<{ purged: number; through: number }> {
  const through = (await jsm.streams.info(deadLetterStream)).state.last_seq;
  const response = await jsm.streams.purge(deadLetterStream, { filter: subject, seq: through + 1 });
  return { purged: response.purged, through };
}

function fromStored(stored: StoredMsg): StoredDeadLetter {
  const headers = new Map<string, string>();
  for (const [key, values] of stored.header ?? []) headers.set(key, values[0] ?? '');
  return { seq: stored.seq, subject: stored.subject, headers, data: stored.data };
}
