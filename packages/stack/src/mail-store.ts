export interface ReceivedMail {
  id: number;
  messageId: string;
  from: string;
  /** Envelope recipients (RCPT TO), so Bcc recipients are included. */
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** ISO 8601 */
  receivedAt: string;
  /** Raw header lines as received (unfolded lines may contain CRLF). */
  headers: string[];
}

export interface WaitForOptions {
  /** Default 10 s. */
  timeoutMs?: number;
  /** Minimum number of matching messages; default 1. */
  count?: number;
}

interface Waiter {
  check(): boolean;
  fail(error: Error): void;
}

/** In-memory, bounded list of received mails (oldest first) with waiting. */
export class MailStore {
  readonly #capacity: number;
  #mails: ReceivedMail[] = [];
  #nextId = 1;
  #waiters = new Set<Waiter>();

  constructor(capacity = 1000) {
    this.#capacity = capacity;
  }

  add(mail: Omit<ReceivedMail, 'id'>): ReceivedMail {
    const stored = { ...mail, id: this.#nextId++ };
    this.#mails.push(stored);
    if (this.#mails.length > this.#capacity) this.#mails.splice(0, this.#mails.length - this.#capacity);
    for (const waiter of [...this.#waiters]) waiter.check();
    return stored;
  }

  all(): ReceivedMail[] {
    return [...this.#mails];
  }

  get(id: number): ReceivedMail | undefined {
    return this.#mails.find((mail) => mail.id === id);
  }

  clear(): void {
    this.#mails = [];
  }

  /** Resolves with all matching mails once at least `count` match; rejects after the timeout. */
  waitFor(predicate: (mail: ReceivedMail) => boolean, opts: WaitForOptions = {}): Promise<ReceivedMail[]> {
    const count = opts.count ?? 1;
    const timeoutMs = opts.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        check: () => {
          const matching = this.#mails.filter(predicate);
          if (matching.length < count) return false;
          this.#settle(waiter, timer);
          resolve(matching);
          return true;
        },
        fail: (error) => {
          this.#settle(waiter, timer);
          reject(error);
        },
      };
      const timer = setTimeout(
        () => waiter.fail(new Error(this.#timeoutMessage(predicate, count, timeoutMs))),
        timeoutMs,
      );
      this.#waiters.add(waiter);
      waiter.check();
    });
  }

  /** Rejects every pending waitFor with `error`. */
  failWaiters(error: Error): void {
    for (const waiter of [...this.#waiters]) waiter.fail(error);
  }

  #settle(waiter: Waiter, timer: NodeJS.Timeout | undefined): void {
    clearTimeout(timer);
    this.#waiters.delete(waiter);
  }

  #timeoutMessage(predicate: (mail: ReceivedMail) => boolean, count: number, timeoutMs: number): string {
    const matched = this.#mails.filter(predicate).length;
    const recent = this.#mails
      .slice(-5)
      .map((mail) => `"${mail.subject}" to ${mail.to.join(', ')}`)
      .join('; ');
    return (
      `smtp sink: timed out after ${timeoutMs} ms waiting for ${count} matching message(s); ` +
      `${matched} of ${this.#mails.length} received matched${recent ? ` (latest: ${recent})` : ''}`
    );
  }
}
