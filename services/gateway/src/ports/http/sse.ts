import type { ServerResponse } from 'node:http';
import { problem } from './problem.ts';

export interface SseStream {
  send(event: string, data: unknown): void;
  readonly closed: boolean;
  /** Resolves when the client goes away or the stream is closed. */
  readonly done: Promise<void>;
  close(): void;
}

/**
 * Server-Sent Events with a bound on open streams (each one polls the
 * services) and on the streams of one user (so one account cannot take them
 * all), a heartbeat comment so proxies keep idle streams open, and a maximum
 * lifetime after which the browser's EventSource reconnects.
 */
export class SseStreams {
  readonly #max: number;
  readonly #maxPerOwner: number;
  readonly #streams = new Set<SseStream>();
  readonly #perOwner = new Map<string, number>();

  constructor(max: number, maxPerOwner = Number.POSITIVE_INFINITY) {
    this.#max = max;
    this.#maxPerOwner = maxPerOwner;
  }

  get open(): number {
    return this.#streams.size;
  }

  /** Opens a stream for `owner` (a user id): 503 when the gateway has no room, 429 when the user has none. */
  start(
    res: ServerResponse,
    options: { owner?: string; heartbeatMs?: number; maxLifetimeMs?: number } = {},
  ): SseStream {
    if (this.#streams.size >= this.#max) {
      throw problem.unavailable(`too many live streams (${this.#max}); retry later`);
    }
    const owner = options.owner;
    if (owner !== undefined && (this.#perOwner.get(owner) ?? 0) >= this.#maxPerOwner) {
      throw problem.tooManyRequests(`at most ${this.#maxPerOwner} live streams per user; close one first`);
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    let closed = false;
    const { promise: done, resolve: resolveDone } = Promise.withResolvers<void>();
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), options.heartbeatMs ?? 15_000);
    const lifetime = setTimeout(() => stream.close(), options.maxLifetimeMs ?? 15 * 60_000);
    const finish = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      clearTimeout(lifetime);
      this.#streams.delete(stream);
      if (owner !== undefined) {
        const left = (this.#perOwner.get(owner) ?? 1) - 1;
        if (left > 0) this.#perOwner.set(owner, left);
        else this.#perOwner.delete(owner);
      }
      resolveDone();
    };
    const stream: SseStream = {
      send(event, data) {
        if (!closed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      },
      get closed() {
        return closed;
      },
      done,
      close() {
        if (!closed) res.end();
        finish();
      },
    };
    this.#streams.add(stream);
    if (owner !== undefined) this.#perOwner.set(owner, (this.#perOwner.get(owner) ?? 0) + 1);
    res.on('close', finish);
    // The client may have left while the route checked access: 'close' has fired already.
    if (res.destroyed) finish();
    return stream;
  }

  closeAll(): void {
    for (const stream of [...this.#streams]) stream.close();
  }
}

/**
 * Runs `tick` every intervalMs until the stream closes; a failing tick sends
 * an `error` event with the problem and ends the stream (the client decides
 * whether to reconnect).
 */
export async function pollInto(
  stream: SseStream,
  intervalMs: number,
  tick: () => Promise<void>,
  onError: (error: unknown) => unknown,
): Promise<void> {
  while (!stream.closed) {
    try {
      await tick();
    } catch (error) {
      stream.send('problem', onError(error));
      stream.close();
      return;
    }
    await Promise.race([new Promise((r) => setTimeout(r, intervalMs)), stream.done]);
  }
}
