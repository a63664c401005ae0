import type { MailSink } from '@conveyor/stack';
import type pg from 'pg';
import { type CpuComponents, cpuBetween, sampleCpu } from './cpu.ts';
import { activityBetween, type DbActivity, markDb } from './db-activity.ts';
import { Latency, openLoop } from './latency.ts';

/**
 * A pipeline that turns a placed order into a stored event, a read-model row and one confirmation
 * mail: Conveyor, or the raw ceiling. The search below drives it from outside and reads what it
 * did from the database and the mail sink.
 */
export interface Pipeline {
  /** Names its rows: "conveyor" or "raw pipeline". */
  label: string;
  /** Places one order; resolves with its id once accepted. */
  place(i: number): Promise<string>;
  /** Schema holding `events` (stream `order-<id>`, version 1 = order.created) and `order_summaries`. */
  ordersSchema: string;
  sink: MailSink;
  /** Mails the sink got before any order (welcome mails). */
  baseMails: number;
  /** What runs the pipeline (counted per completed order) and what drives it (counted apart). */
  cpu: { system: CpuComponents; harness: CpuComponents };
  /** A pool on the pipeline's database for the harness's own queries. */
  observer: pg.Pool;
  database: string;
  statementStats: boolean;
}

export interface SearchOptions {
  startRate: number;
  /** Probe length while searching, and of the confirming run. */
  probeMs: number;
  confirmMs: number;
  /** Stop searching when the highest passing and lowest failing rates are this close (ratio − 1). */
  resolution: number;
  maxProbes: number;
  /** Mail p99 under this (ms) for a rate to be sustained. */
  mailP99Ms: number;
  drainTimeoutMs: number;
  log: (line: string) => void;
}

export interface Percentiles {
  n: number;
  p50: number | undefined;
  p99: number | undefined;
  p999: number | undefined;
}

export interface Probe {
  rate: number;
  seconds: number;
  offered: number;
  admitted: number;
  refused: Record<string, number>;
  dropped: number;
  aborted: boolean;
  placeOrder: Percentiles;
  readModel: Percentiles;
  mail: Percentiles;
  backlog: { final: number; slopePerSecond: number; max: number };
  drained: boolean;
  drainMs: number;
  /** CPU seconds per component over the load and the drain. */
  cpu: { name: string; seconds: number; harness: boolean }[];
  db: DbActivity;
  pass: boolean;
  /** Why it failed, or what it met. */
  verdict: string;
}

/** Every order a pipeline accepted in this run, with its intended start (epoch ms). */
export class RunLedger {
  readonly accepted = new Map<string, number>();
}

const percentiles = (values: number[]): Percentiles => {
  if (values.length === 0) return { n: 0, p50: undefined, p99: undefined, p999: undefined };
  const l = new Latency();
  for (const v of values) l.record(Math.max(0, v));
  const s = l.summary();
  return { n: values.length, p50: s.p50, p99: s.p99, p999: s.p999 };
};

/** Least-squares slope of y over t (per second). */
function slope(samples: { t: number; y: number }[]): number {
  if (samples.length < 2) return 0;
  const n = samples.length;
  const mt = samples.reduce((s, p) => s + p.t, 0) / n;
  const my = samples.reduce((s, p) => s + p.y, 0) / n;
  const num = samples.reduce((s, p) => s + (p.t - mt) * (p.y - my), 0);
  const den = samples.reduce((s, p) => s + (p.t - mt) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

/** Waits (bounded) until every accepted order is projected and mailed; true when it got there. */
export async function drain(p: Pipeline, ledger: RunLedger, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  const want = () => ledger.accepted.size;
  for (;;) {
    const mails = (await p.sink.count()).mails - p.baseMails;
    if (mails >= want()) {
      const { rows } = await p.observer.query<{ n: number }>(
        `/* bench-observer */ select count(*)::int as n from ${p.ordersSchema}.order_summaries`,
      );
      if (rows[0]!.n >= want()) return true;
    }
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** For each order: when its row was projected (epoch ms, null when not) and its first event's id (null when not stored). */
export async function outcomes(p: Pipeline, orderIds: string[]) {
  const { rows } = await p.observer.query<{
    order_id: string;
    event_id: string | null;
    projected: number | null;
  }>(
    `/* bench-observer */ select o.id::text as order_id, e.event_id::text as event_id,
            extract(epoch from s.projected_at) * 1000 as projected
       from unnest($1::uuid[]) as o(id)
       left join ${p.ordersSchema}.events e on e.stream_id = 'order-' || o.id::text and e.version = 1
       left join ${p.ordersSchema}.order_summaries s on s.order_id = o.id`,
    [orderIds],
  );
  return rows;
}

export interface ProbeOptions {
  durationMs: number;
  mailP99Ms: number;
  drainTimeoutMs: number;
  /** Stop offering load once this many seconds of orders wait for their mail. */
  abortBacklogSeconds?: number;
}

/**
 * One open-loop run at `rate` orders/s, judged as issue 15 asks: sustained when at least 99% of
 * the offered orders were admitted, the place → mail p99 stayed under the bound, and the backlog
 * (orders accepted, mail not yet sent) did not grow: its slope over the second half of the run
 * under 2% of the rate (or under a quarter second of orders waiting at the end), and at most one
 * second of orders outstanding at the end. Latencies run
 * from each order's intended start; CPU and database work count over the load and the drain.
 */
export async function probe(p: Pipeline, ledger: RunLedger, rate: number, o: ProbeOptions): Promise<Probe> {
  await drain(p, ledger, o.drainTimeoutMs);
  const components = { ...p.cpu.system, ...p.cpu.harness };
  const cpuBefore = sampleCpu(components);
  const dbBefore = await markDb(p.observer, p.database, p.statementStats);
  const sinkStart = (await p.sink.count()).mails;
  const placed: { id: string; at: number }[] = [];
  const started = performance.now();
  const samples: { t: number; y: number }[] = [];
  let backlog = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await new Promise((r) => setTimeout(r, 250));
      const mails = (await p.sink.count()).mails - sinkStart;
      backlog = placed.length - mails;
      samples.push({ t: (performance.now() - started) / 1000, y: backlog });
    }
  })();
  let refusedSoFar = 0;
  const abortAt = rate * (o.abortBacklogSeconds ?? 3);
  const loop = await openLoop({
    ratePerSecond: rate,
    durationMs: o.durationMs,
    maxInFlight: 2000,
    op: async (i, intendedAt) => {
      try {
        const id = await p.place(i);
        placed.push({ id, at: intendedAt });
        ledger.accepted.set(id, intendedAt);
      } catch (error) {
        refusedSoFar++;
        throw error;
      }
    },
    // Lost anyway: too much waiting, or more than 1% refused once a few hundred were offered.
    abort: () =>
      backlog > abortAt ||
      (placed.length + refusedSoFar > 300 && refusedSoFar > 0.01 * (placed.length + refusedSoFar)),
  });
  sampling = false;
  await sampler;
  const drainStarted = performance.now();
  const drained = await drain(p, ledger, o.drainTimeoutMs);
  const drainMs = performance.now() - drainStarted;
  const cpu = cpuBetween(cpuBefore, sampleCpu(components)).map((c) => ({
    ...c,
    harness: c.name in p.cpu.harness,
  }));
  const db = activityBetween(dbBefore, await markDb(p.observer, p.database, p.statementStats));

  const found = await outcomes(
    p,
    placed.map((x) => x.id),
  );
  const intended = new Map(placed.map((x) => [x.id, x.at]));
  const readLags: number[] = [];
  const keys: string[] = [];
  const keyAt: number[] = [];
  for (const r of found) {
    const at = intended.get(r.order_id)!;
    if (r.projected !== null) readLags.push(r.projected - at);
    if (r.event_id) {
      keys.push(`${r.event_id}.email`);
      keyAt.push(at);
    }
  }
  const mailLags = (await p.sink.firstSeen(keys)).flatMap((t, i) => (t === null ? [] : [t - keyAt[i]!]));

  const secondHalf = samples.filter((s) => s.t >= loop.seconds / 2);
  const b = {
    final: samples.at(-1)?.y ?? 0,
    slopePerSecond: slope(secondHalf),
    max: Math.max(0, ...samples.map((s) => s.y)),
  };
  const admitted = loop.ops;
  const mail = percentiles(mailLags);
  const failures = [
    admitted < 0.99 * loop.offered && `admitted ${admitted} of ${loop.offered} (< 99%)`,
    loop.aborted && `stopped early: backlog ${backlog} or ${refusedSoFar} refused`,
    !drained && `not drained within ${o.drainTimeoutMs} ms`,
    (mail.p99 ?? Infinity) >= o.mailP99Ms && `mail p99 ${mail.p99?.toFixed(0) ?? '—'} ms ≥ ${o.mailP99Ms} ms`,
    // Growth that matters: 2% of the rate per second, once a quarter second of orders waits.
    b.slopePerSecond > 0.02 * rate &&
      b.final > 0.25 * rate &&
      `backlog grew ${b.slopePerSecond.toFixed(1)}/s (> 2% of the rate) to ${b.final}`,
    b.final > rate && `backlog at the end ${b.final} (> 1 s of orders)`,
  ].filter((f): f is string => typeof f === 'string');
  return {
    rate,
    seconds: loop.seconds,
    offered: loop.offered,
    admitted,
    refused: loop.errorCodes,
    dropped: loop.dropped,
    aborted: loop.aborted,
    placeOrder: { n: admitted, ...loop.latency.summary() },
    readModel: percentiles(readLags),
    mail,
    backlog: b,
    drained,
    drainMs,
    cpu,
    db,
    pass: failures.length === 0,
    verdict:
      failures.length > 0
        ? failures.join('; ')
        : `mail p99 ${mail.p99?.toFixed(0)} ms, backlog ${b.final} at the end (slope ${b.slopePerSecond.toFixed(1)}/s)`,
  };
}

/**
 * The highest sustained rate: doubling from `startRate` while probes pass, bisecting between the
 * highest pass and the lowest failure down to `resolution`, then a confirming run of `confirmMs`
 * at the best rate (stepping down 15% while it fails, three times at most). Every loop is bounded.
 */
export async function findSustainedRate(
  p: Pipeline,
  ledger: RunLedger,
  o: SearchOptions,
): Promise<{ sustained: Probe | undefined; probes: Probe[] }> {
  const probes: Probe[] = [];
  const run = async (rate: number, durationMs: number) => {
    const r = await probe(p, ledger, rate, {
      durationMs,
      mailP99Ms: o.mailP99Ms,
      drainTimeoutMs: o.drainTimeoutMs,
    });
    probes.push(r);
    o.log(
      `${p.label} · ${rate}/s for ${(durationMs / 1000).toFixed(0)} s: ${r.pass ? 'sustained' : 'not sustained'} (${r.verdict})`,
    );
    return r;
  };
  let lo: number | undefined;
  let hi: number | undefined;
  let rate = o.startRate;
  for (let i = 0; i < o.maxProbes; i++) {
    const r = await run(rate, o.probeMs);
    if (r.pass) lo = rate;
    else hi = rate;
    if (lo !== undefined && hi !== undefined && hi / lo <= 1 + o.resolution) break;
    const next = lo === undefined ? rate / 2 : hi === undefined ? rate * 2 : (lo + hi) / 2;
    rate = Math.max(1, Math.round(next));
    if (rate === lo || rate === hi) break;
  }
  for (let attempt = 0, candidate = lo; candidate !== undefined && attempt < 3; attempt++) {
    const r = await run(candidate, o.confirmMs);
    if (r.pass) return { sustained: r, probes };
    candidate = Math.max(1, Math.round(candidate * 0.85));
  }
  return { sustained: undefined, probes };
}
