import type { DeadLetter, DeadLetterFilter, DeadLetterQueue } from '../app/dead-letter-queue.ts';
import type { Notification } from '../app/notification-store.ts';

/** Dead letters in arrival order, ids counting up as a stream's sequences do. */
export class InMemoryDeadLetterQueue implements DeadLetterQueue {
  readonly #letters = new Map<string, DeadLetter>();
  readonly #consumer: string;
  #next = 1;

  constructor(consumer: string) {
    this.#consumer = consumer;
  }

  get all(): DeadLetter[] {
    return [...this.#letters.values()];
  }

  add(letter: Omit<DeadLetter, 'id' | 'consumer'>): DeadLetter {
    const stored = { ...letter, id: String(this.#next++), consumer: this.#consumer };
    this.#letters.set(stored.id, stored);
    return stored;
  }

  async list(filter: DeadLetterFilter, afterId: string | undefined, limit: number) {
    const matching = this.all.filter(
      (d) =>
        (afterId === undefined || Number(d.id) > Number(afterId)) &&
        (!filter.subject || d.originalSubject === filter.subject) &&
        (!filter.reasonContains || d.reason.toLowerCase().includes(filter.reasonContains.toLowerCase())),
    );
    const items = matching.slice(0, limit);
    return { items, next: matching.length > limit ? items.at(-1)?.id : undefined };
  }

  async get(id: string) {
    return this.#letters.get(id);
  }

  async readd(deadLetter: DeadLetter, reason: string) {
    const { id: _, consumer: __, ...rest } = deadLetter;
    this.add({ ...rest, reason });
  }

  async remove(id: string) {
    return this.#letters.delete(id);
  }

  async addDelivery(failure: { notification: Notification; reason: string }) {
    const n = failure.notification;
    this.add({
      originalSubject: n.eventType,
      originalStream: n.eventType.startsWith('user.') ? 'USERS' : 'ORDERS',
      originalSequence: 0,
      reason: failure.reason,
      deliveries: 0,
      attempts: n.attempts,
      failedAt: undefined,
      eventId: n.eventId,
      eventType: n.eventType,
      notificationId: n.id,
      headers: new Map([['ce-id', n.eventId]]),
      payload: new Uint8Array(),
    });
  }

  async purge(subject: string | undefined) {
    const gone = this.all.filter((d) => !subject || d.originalSubject === subject);
    for (const d of gone) this.#letters.delete(d.id);
    return { purged: gone.length, through: this.#next - 1 };
  }
}
