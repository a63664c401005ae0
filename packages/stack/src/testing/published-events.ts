import { type CloudEvent, decodeEvent } from '@conveyor/platform';
import type { JetStreamManager } from '@nats-io/jetstream';
import { waitUntil } from '../wait-until.ts';

/**
 * The event a service published about `subject` (its ce-subject: a user or order id), read back
 * from its stream as a consumer receives it: for tests that hand a real event to another
 * service, or deliver it again. Waits for the outbox relay, looking back from the newest message.
 */
export async function publishedEvent(
  jsm: JetStreamManager,
  where: { stream: string; type: string; subject: string },
  timeoutMs = 10_000,
): Promise<CloudEvent> {
  let found: CloudEvent | undefined;
  await waitUntil(
    async () => {
      found = await findBack(jsm, where);
      return found !== undefined;
    },
    { timeoutMs, intervalMs: 20, message: `no ${where.type} about ${where.subject} in ${where.stream}` },
  );
  return found!;
}

/** Looks back from the stream's newest message, at most 500 of them. */
async function findBack(
  jsm: JetStreamManager,
  where: { stream: string; type: string; subject: string },
): Promise<CloudEvent | undefined> {
  const last = (await jsm.streams.info(where.stream)).state.last_seq;
  for (let seq = last; seq >= 1 && seq > last - 500; seq--) {
    const message = await jsm.streams.getMessage(where.stream, { seq }).catch(() => undefined);
    if (message?.subject !== where.type || message.header?.get('ce-subject') !== where.subject) continue;
    const headers = new Map<string, string>();
    for (const [key, values] of message.header) headers.set(key, values[0] ?? '');
    return decodeEvent(headers, message.data);
  }
  return undefined;
}
