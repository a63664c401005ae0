/** A named dependency check; resolves true when the dependency is usable. */
export type ReadinessCheck = () => Promise<boolean>;

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, 'ok' | 'failing' | string>;
}

/**
 * Tells whether this instance should receive work. Goes false for good once
 * shutdown begins, so load balancers and probes drain it first.
 * Listeners hear every change of the overall state (gRPC health mirrors it).
 */
export class Readiness {
  readonly #checks = new Map<string, ReadinessCheck>();
  readonly #listeners = new Set<(ready: boolean) => void>();
  #shuttingDown = false;
  #last: boolean | undefined;

  readonly #checkTimeoutMs: number;

  constructor(checkTimeoutMs = 2000) {
    this.#checkTimeoutMs = checkTimeoutMs;
  }

  add(name: string, check: ReadinessCheck): this {
    this.#checks.set(name, check);
    return this;
  }

  /** Calls `listener` on every change, and at once with the current state when one is known. */
  onChange(listener: (ready: boolean) => void): void {
    this.#listeners.add(listener);
    if (this.#last !== undefined) listener(this.#last);
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  beginShutdown(): void {
    this.#shuttingDown = true;
    this.stopWatching();
    this.#publish(false);
  }

  #timer: NodeJS.Timeout | undefined;
  #started = false;

  /**
   * Marks start-up complete and re-evaluates every intervalMs, so listeners
   * (gRPC health) follow the dependencies.
   */
  watch(intervalMs: number): void {
    this.stopWatching();
    this.#started = true;
    void this.report();
    this.#timer = setInterval(() => void this.report(), intervalMs);
    this.#timer.unref();
  }

  stopWatching(): void {
    clearInterval(this.#timer);
  }

  async report(): Promise<ReadinessReport> {
    const checks: ReadinessReport['checks'] = {};
    await Promise.all(
      [...this.#checks].map(async ([name, check]) => {
        checks[name] = (await this.#run(check)) ? 'ok' : 'failing';
      }),
    );
    if (this.#shuttingDown) checks.shutdown = 'in progress';
    // Not ready until start-up registered its checks and began watching them.
    if (!this.#started) checks.startup = 'in progress';
    const ready = Object.values(checks).every((c) => c === 'ok');
    this.#publish(ready);
    return { ready, checks };
  }

  async #run(check: ReadinessCheck): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.#checkTimeoutMs);
    });
    try {
      return await Promise.race([check().catch(() => false), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #publish(ready: boolean): void {
    if (ready === this.#last) return;
    this.#last = ready;
    for (const listener of this.#listeners) listener(ready);
  }
}
