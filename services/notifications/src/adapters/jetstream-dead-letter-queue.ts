import { deadLetterSubject, Streams } from '@conveyor/contracts';
import {
  DeadLetterHeaders,
  deleteDeadLetter,
  publishDeadLetter,
  purgeDeadLetters,
  readDeadLetter,
  type StoredDeadLetter,
} from '@conveyor/platform';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { DeadLetter, DeadLetterFilter, DeadLetterQueue } from '../app/dead-letter-queue.ts';
import type { Notification } from '../app/notification-store.ts';

export interface JetStreamDeadLetterQueueOptions {
  jsm: JetStreamManager;
  /** Whose dead letters: `deadletter.<consumer>.>`. */
  consumer: string;
  /** Messages read at most per list call, matching or not (default 2000). */
  scanLimit?: number;
}

/**
 * One consumer's dead letters in the DEADLETTERS stream, read message by
 * message (no consumer is created for browsing, so listing changes nothing).
 */
export class JetStreamDeadLetterQueue implements DeadLetterQueue {
  readonly #jsm: JetStreamManager;
  readonly #consumer: string;
  readonly #scanLimit: number;

  constructor(options: JetStreamDeadLetterQueueOptions) {
    this.#jsm = options.jsm;
    this.#consumer = options.consumer;
    this.#scanLimit = options.scanLimit ?? 2000;
  }

  async list(filter: DeadLetterFilter, afterId: string | undefined, limit: number) {
    const subject = this.#subject(filter.subject);
    const needle = filter.reasonContains?.toLowerCase();
    const items: DeadLetter[] = [];
    let seq = afterId === undefined ? 0 : Number(afterId);
    for (let scanned = 0; scanned < this.#scanLimit; scanned++) {
      const stored = await readDeadLetter(this.#jsm, { after: seq, subject });
      if (!stored) return { items, next: undefined };
      seq = stored.seq;
      const deadLetter = toDeadLetter(stored);
      if (!needle || deadLetter.reason.toLowerCase().includes(needle)) items.push(deadLetter);
      if (items.length >= limit) break;
    }
    // Stopped at the page size or the scan limit: there may be more after seq.
    return { items, next: String(seq) };
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const stored = await readDeadLetter(this.#jsm, { seq: Number(id) });
    if (!stored?.subject.startsWith(`deadletter.${this.#consumer}.`)) return undefined;
    return toDeadLetter(stored);
  }

  async readd(deadLetter: DeadLetter, reason: string): Promise<void> {
    const own = new Set<string>(Object.values(DeadLetterHeaders).map((name) => name.toLowerCase()));
    await publishDeadLetter(this.#jsm.jetstream(), {
      consumer: this.#consumer,
      subject: deadLetter.originalSubject,
      stream: deadLetter.originalStream,
      streamSequence: deadLetter.originalSequence,
      deliveries: deadLetter.deliveries,
      headers: new Map([...deadLetter.headers].filter(([key]) => !own.has(key.toLowerCase()))),
      data: deadLetter.payload,
      reason,
      // Two redrives of one dead letter at once store one copy.
      msgId: `redrive:${this.#consumer}:${deadLetter.id}`,
    });
  }

  /**
   * Ids only (event, notification, channel, webhook), never the mail or its address: dead letters
   * are kept 90 days and erasure must not have to find them. One copy per give-up: the
   * Nats-Msg-Id names the notification and its attempt count.
   */
  async addDelivery(failure: { notification: Notification; reason: string }): Promise<void> {
    const n = failure.notification;
    const stream = n.eventType.startsWith('user.') ? Streams.users.name : Streams.orders.name;
    const headers = new Map<string, string>([
      ['ce-id', n.eventId],
      ['ce-type', n.eventType],
      [DeadLetterHeaders.notificationId, n.id],
      ['Conveyor-Channel', n.channel],
      ...(n.webhookId ? ([['Conveyor-Webhook-Id', n.webhookId]] as const) : []),
    ]);
    const data = new TextEncoder().encode(
      JSON.stringify({
        notificationId: n.id,
        eventId: n.eventId,
        channel: n.channel,
        webhookId: n.webhookId ?? null,
      }),
    );
    await publishDeadLetter(this.#jsm.jetstream(), {
      consumer: this.#consumer,
      subject: n.eventType,
      stream,
      streamSequence: 0,
      deliveries: 0,
      attempts: n.attempts,
      headers,
      data,
      reason: failure.reason,
      msgId: `${this.#consumer}:delivery:${n.id}:${n.attempts}`,
    });
  }

  remove(id: string): Promise<boolean> {
    return deleteDeadLetter(this.#jsm, Number(id));
  }

  purge(subject: string | undefined): Promise<{ purged: number; through: number }> {
    return purgeDeadLetters(this.#jsm, this.#subject(subject));
  }

  #subject(original: string | undefined): string {
    return original ? deadLetterSubject(this.#consumer, original) : `deadletter.${this.#consumer}.>`;
  }
}

function toDeadLetter(stored: StoredDeadLetter): DeadLetter {
  const get = (name: string) => stored.headers.get(name);
  const number = (name: string) => {
    const raw = get(name);
    return raw !== undefined && raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : undefined;
  };
  const failedAt = get(DeadLetterHeaders.failedAt);
  return {
    id: String(stored.seq),
    consumer: get(DeadLetterHeaders.consumer) ?? '',
    originalSubject: get(DeadLetterHeaders.originalSubject) ?? stored.subject.split('.').slice(2).join('.'),
    originalStream: get(DeadLetterHeaders.originalStream) ?? '',
    originalSequence: number(DeadLetterHeaders.originalSequence) ?? 0,
    reason: get(DeadLetterHeaders.reason) ?? '',
    deliveries: number(DeadLetterHeaders.deliveries) ?? 0,
    attempts: number(DeadLetterHeaders.attempts),
    failedAt: failedAt && !Number.isNaN(Date.parse(failedAt)) ? new Date(failedAt) : undefined,
    eventId: get('ce-id'),
    eventType: get('ce-type'),
    notificationId: get(DeadLetterHeaders.notificationId),
    headers: stored.headers,
    payload: stored.data,
  };
}
