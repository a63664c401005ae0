/**
 * Collects items and writes them in groups: the first item is flushed at once (a lone item is
 * never delayed); items that arrive while a flush is in flight wait for it and go together in the
 * next one, up to `maxBatch`. A failed flush keeps its items and is retried after a growing delay
 * (capped), so nothing pushed is dropped while the process lives.
 */
export class GroupFlush<T> {
  readonly #flush: (items: T[]) => Promise<void>;
  readonly #maxBatch: number;
  readonly #onError: (error: unknown, items: number) => void;
  readonly #maxRetryMs: number;
  #pending: T[] = [];
  #running: Promise<void> | undefined;

  constructor(
    flush: (items: T[]) => Promise<void>,
    options: { maxBatch: number; onError: (error: unknown, items: number) => void; maxRetryMs?: number },
  ) {
    this.#flush = flush;
    this.#maxBatch = options.maxBatch;
    this.#onError = options.onError;
    this.#maxRetryMs = options.maxRetryMs ?? 5000;
  }

  get pending(): number {
    return this.#pending.length;
  }

  push(item: T): void {
    this.#pending.push(item);
    this.#running ??= this.#loop().finally(() => {
      this.#running = undefined;
    });
  }

  /** Resolves once every item pushed so far has been flushed. */
  async drained(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #loop(): Promise<void> {
    const firstRetryMs = Math.min(50, this.#maxRetryMs);
    let retryMs = firstRetryMs;
    while (this.#pending.length > 0) {
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
