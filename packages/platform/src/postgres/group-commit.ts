/**
 * Group commit for callers that each wait for their own result: the first call runs at once (a
 * lone caller is never delayed); calls that arrive while it is in flight queue and run together
 * next, up to `maxBatch`, through `many`. When a group fails as a whole (one member broke a
 * constraint the group statement cannot tell apart), each member runs alone through `one`, so a
 * failure in one never fails another. A call that `conflicts` with one already in the group (the
 * same stream, the same idempotency key) waits for the next group.
 */
export interface GroupCommitOptions<In, Out> {
  maxBatch: number;
  many: (items: readonly In[]) => Promise<Out[]>;
  one: (item: In) => Promise<Out>;
  conflicts?: (a: In, b: In) => boolean;
}

interface Waiting<In, Out> {
  item: In;
  resolve: (out: Out) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<In, Out> {
  readonly #options: GroupCommitOptions<In, Out>;
  #queue: Waiting<In, Out>[] = [];
  #running = false;

  constructor(options: GroupCommitOptions<In, Out>) {
    this.#options = options;
  }

  submit(item: In): Promise<Out> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#running) void this.#loop();
    });
  }

  async #loop(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) await this.#runGroup(this.#take());
    } finally {
      this.#running = false;
    }
  }

  /** The next group: queued calls in order, skipping (for now) one that conflicts with a member. */
  #take(): Waiting<In, Out>[] {
    const group: Waiting<In, Out>[] = [];
    const rest: Waiting<In, Out>[] = [];
    for (const w of this.#queue) {
      const clash = this.#options.conflicts && group.some((g) => this.#options.conflicts!(g.item, w.item));
      if (group.length < this.#options.maxBatch && !clash) group.push(w);
      else rest.push(w);
    }
    this.#queue = rest;
    return group;
  }

  async #runGroup(group: Waiting<In, Out>[]): Promise<void> {
    if (group.length === 1) {
      const [w] = group;
      await this.#options.one(w!.item).then(w!.resolve, w!.reject);
      return;
    }
    let results: Out[];
    try {
      results = await this.#options.many(group.map((w) => w.item));
    } catch {
      for (const w of group) await this.#options.one(w.item).then(w.resolve, w.reject);
      return;
    }
    for (const [i, w] of group.entries()) w.resolve(results[i]!);
  }
}
