import { deadLetterSubject } from '@conveyor/contracts';
import type { JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';

/** Headers a dead letter carries beside the original message's own. */
export const DeadLetterHeaders = {
  reason: 'Conveyor-Dead-Letter-Reason',
  consumer: 'Conveyor-Dead-Letter-Consumer',
  originalSubject: 'Conveyor-Original-Subject',
  originalStream: 'Conveyor-Original-Stream',
  originalSequence: 'Conveyor-Original-Sequence',
  deliveries: 'Conveyor-Deliveries',
  failedAt: 'Conveyor-Failed-At',
} as const;

export interface FailedMessage {
  consumer: string;
  subject: string;
  stream: string;
  streamSequence: number;
  deliveries: number;
  headers: ReadonlyMap<string, string>;
  data: Uint8Array;
  reason: string;
}

/**
 * Publishes a message that will not be processed to the DEADLETTERS stream,
 * with its original headers and payload and why it failed. Resolves only
 * after JetStream stored it, so the caller may then `term` the original.
 * Deduplicated per (consumer, stream, sequence): a retried dead-lettering
 * stores one copy.
 */
export async function publishDeadLetter(js: JetStreamClient, failed: FailedMessage): Promise<void> {
  const h = natsHeaders();
  for (const [key, value] of failed.headers) {
    if (key !== 'Nats-Msg-Id' && !key.startsWith('Nats-')) h.set(key, value);
  }
  h.set(DeadLetterHeaders.reason, failed.reason.slice(0, 2000).replace(/[\r\n]+/g, ' '));
  h.set(DeadLetterHeaders.consumer, failed.consumer);
  h.set(DeadLetterHeaders.originalSubject, failed.subject);
  h.set(DeadLetterHeaders.originalStream, failed.stream);
  h.set(DeadLetterHeaders.originalSequence, String(failed.streamSequence));
  h.set(DeadLetterHeaders.deliveries, String(failed.deliveries));
  h.set(DeadLetterHeaders.failedAt, new Date().toISOString());
  await js.publish(deadLetterSubject(failed.consumer, failed.subject), failed.data, {
    headers: h,
    msgID: `${failed.consumer}:${failed.stream}:${failed.streamSequence}`,
  });
}
