/**
 * Collects items and writes them in groups: the first item is flushed at once (a lone item is
 * never delayed, unless `lingerMs` asks to wait a little for company); items that arrive while a
 * flush is in flight wait for it and go together in the next one, up to `maxBatch`. A failed flush keeps its items and is retried after a growing delay
 * (capped), so nothing pushed is dropped while the process lives.
 */
export class GroupFlush<T> {
  readonly #flush: (items: T[]) => Promise<void>;
  readonly #maxBatch: number;
  readonly #onError: (error: unknown, items: number) => void;
  readonly #maxRetryMs: number;
  readonly #lingerMs: number;
  #wakeLinger: (() => void) | undefined;
  #pending: T[] = [];
  #running: Promise<void> | undefined;

  constructor(
    flush: (items: T[]) => Promise<void>,
    options: {
      maxBatch: number;
      onError: (error: unknown, items: number) => void;
      maxRetryMs?: number;
      /**
       * Wait this long for company before writing a group that starts alone (0: write at once).
       * For bookkeeping nobody waits on, where fewer writes matter more than a few milliseconds.
       */
      lingerMs?: number;
    },
  ) {
    this.#flush = flush;
    this.#lingerMs = options.lingerMs ?? 0;
    this.#maxBatch = options.maxBatch;
    this.#onError = options.onError;
    this.#maxRetryMs = options.maxRetryMs ?? 5000;
  }

  get pending(): number {
    return this.#pending.length;
  }

  push(item: T): void {
    this.#pending.push(item);
    if (this.#pending.length >= this.#maxBatch) this.#wakeLinger?.();
    this.#running ??= this.#loop().finally(() => {
      this.#running = undefined;
    });
  }

  /** Resolves once every item pushed so far has been flushed (at once, without lingering). */
  async drained(): Promise<void> {
    this.#draining = true;
    try {
      this.#wakeLinger?.();
      while (this.#running) await this.#running;
    } finally {
      this.#draining = false;
    }
  }

  #draining = false;

  /** A promise to wait on before the next group, or undefined to write it at once. */
  #linger(): Promise<void> | undefined {
    if (this.#lingerMs === 0 || this.#draining || this.#pending.length >= this.#maxBatch) return undefined;
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.#lingerMs);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.#wakeLinger = undefined;
        resolve();
      }
      this.#wakeLinger = done;
    });
  }

  async #loop(): Promise<void> {
    const firstRetryMs = Math.min(50, this.#maxRetryMs);
    let retryMs = firstRetryMs;
    while (this.#pending.length > 0) {
      const linger = this.#linger();
      if (linger) await linger;
      const batch = this.#pending.splice(0, this.#maxBatch);
      try {
        await this.#flush(batch);
        retryMs = firstRetryMs;
      } catch (error) {
        this.#onError(error, batch.length);
        this.#pending.unshift(...batch);
        await new Promise((r) => setTimeout(r, retryMs));
        retryMs = Math.min(retryMs * 2, this.#maxRetryMs);
      }
    }
  }
}
