import hdr from 'hdr-histogram-js';

/** Latencies in microseconds, HDR-recorded (3 significant digits, up to 60 s). */
export class Latency {
  readonly #h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });

  record(ms: number): void {
    this.#h.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.#h.totalCount;
  }

  /** Milliseconds at a percentile (0–100). */
  at(percentile: number): number {
    return this.#h.getValueAtPercentile(percentile) / 1000;
  }

  summary(): { p50: number; p99: number; p999: number; max: number } {
    const round = (v: number) => Math.round(v * 1000) / 1000;
    return {
      p50: round(this.at(50)),
      p99: round(this.at(99)),
      p999: round(this.at(99.9)),
      max: round(this.#h.maxValue / 1000),
    };
  }
}

/**
 * Closed loop: `concurrency` workers each run `op` back to back until
 * `durationMs` passes (checked between operations, so the run is bounded by
 * duration plus one operation per worker). Returns throughput and latency.
 */
export async function closedLoop(
  concurrency: number,
  durationMs: number,
  op: (worker: number, i: number) => Promise<void>,
): Promise<{
  ops: number;
  errors: number;
  seconds: number;
  perSecond: number;
  latency: Latency;
  firstError?: string;
}> {
  const latency = new Latency();
  let ops = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const t0 = performance.now();
        try {
          await op(worker, i);
          latency.record(performance.now() - t0);
          ops++;
        } catch (error) {
          errors++;
          firstError ??= (error as Error).message;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { ops, errors, seconds, perSecond: ops / seconds, latency, ...(firstError ? { firstError } : {}) };
}

export interface OpenLoopOptions {
  ratePerSecond: number;
  durationMs: number;
  /** Calls outstanding at most; a start beyond it is dropped (counted, not sent). */
  maxInFlight: number;
  /** One call; `intendedAt` is its scheduled start, epoch ms (for lags measured elsewhere). */
  op: (i: number, intendedAt: number) => Promise<void>;
  /** Checked before each start: true stops offering load (the rate is lost anyway). */
  abort?: () => boolean;
}

export interface OpenLoopResult {
  /** Starts scheduled before the end or the abort. */
  offered: number;
  ops: number;
  errors: number;
  /** Errors by gRPC status code (or "other"), e.g. 14 for calls a service refused as overloaded. */
  errorCodes: Record<string, number>;
  dropped: number;
  latency: Latency;
  seconds: number;
  aborted: boolean;
}

/**
 * Open loop: starts `op` at a fixed rate for `durationMs` regardless of how long earlier ones take
 * (so queueing shows up in latency), with at most `maxInFlight` outstanding. Latency counts from
 * the intended start time.
 */
export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const latency = new Latency();
  const errorCodes: Record<string, number> = {};
  const interval = 1000 / options.ratePerSecond;
  const total = Math.floor((options.durationMs / 1000) * options.ratePerSecond);
  const started = performance.now();
  let ops = 0;
  let errors = 0;
  let dropped = 0;
  let offered = 0;
  let aborted = false;
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < total; i++) {
    const intended = started + i * interval;
    const wait = intended - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    if (options.abort?.()) {
      aborted = true;
      break;
    }
    offered++;
    if (inFlight.size >= options.maxInFlight) {
      dropped++;
      continue;
    }
    const p = options.op(i, performance.timeOrigin + intended).then(
      () => {
        latency.record(performance.now() - intended);
        ops++;
      },
      (error: unknown) => {
        errors++;
        const code = String((error as { code?: unknown }).code ?? 'other');
        errorCodes[code] = (errorCodes[code] ?? 0) + 1;
      },
    );
    const tracked = p.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  }
  await Promise.all(inFlight);
  return {
    offered,
    ops,
    errors,
    errorCodes,
    dropped,
    latency,
    seconds: (performance.now() - started) / 1000,
    aborted,
  };
}
