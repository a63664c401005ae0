import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitUntilOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Describes what was awaited; it starts the timeout error's message. */
  message: string;
}

/**
 * Polls `fn` until it returns true. A throwing `fn` counts as "not yet"; its last error is
 * reported (as the cause) when the timeout expires.
 */
export async function waitUntil(fn: () => Promise<boolean> | boolean, opts: WaitUntilOptions): Promise<void> {
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await fn()) return;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    await sleep(Math.min(intervalMs, remaining));
  }
  const detail = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
  throw new Error(`${opts.message} (timed out after ${opts.timeoutMs} ms${detail})`, { cause: lastError });
}

/**
 * What `promise` settles to, or `onTimeout` once `timeoutMs` have passed: a bound on a wait, never
 * a wait for something to happen. The timer does not keep the process alive.
 */
export async function within<T, U>(promise: Promise<T>, timeoutMs: number, onTimeout: U): Promise<T | U> {
  const bound = new AbortController();
  try {
    return await Promise.race([promise, sleep(timeoutMs, onTimeout, { ref: false, signal: bound.signal })]);
  } finally {
    bound.abort();
  }
}
