import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { counter, gauge, histogram, type Registry } from '../observability/metrics.ts';
import { linkTo, withSpan } from '../observability/telemetry.ts';
import type { Queryable } from '../postgres/pool.ts';

/**
 * Durable timers (ADR 0032): "run this later" as a row in Postgres, written in the same statement
 * as the events that decide it (an append's `timers`), so a timer exists exactly when its cause
 * was recorded. Replicas claim due rows with FOR UPDATE SKIP LOCKED under a lease, as the
 * notifications' delivery queue does; a claim that outlives its lease (a crashed or stalled
 * replica) is claimed again. Firing is therefore at least once: a timer's handler must be
 * idempotent, which for an event-sourced aggregate means deciding from the stream (a cancelled
 * order is not cancelled again; the append's version check settles a race between two firings).
 */

/** A timer to set (or move, if its key is set already). */
export interface TimerSpec {
  /** Unique per timer, e.g. `order-payment:<order id>`: setting it again moves it, clearing it removes it. */
  key: string;
  /** Which handler fires it. */
  kind: string;
  dueAt: Date;
  payload?: Record<string, unknown>;
}

/** Timer changes that go with an append, committed with its events or not at all. */
export interface TimerChanges {
  set?: readonly TimerSpec[];
  clear?: readonly string[];
}

export interface DueTimer extends Required<TimerSpec> {
  attempts: number;
  lastError: string | undefined;
  claimedUntil: Date | undefined;
  traceparent: string | undefined;
}

/** The table (include in a service's migrations). */
export const timersTableSql = `
  create table timers (
    key text primary key,
    kind text not null,
    payload jsonb not null default '{}',
    due_at timestamptz not null,
    -- A claim: its token and when its lease ends (then the timer is due again).
    claimed_by text,
    claimed_until timestamptz,
    attempts integer not null default 0,
    last_error text,
    traceparent text,
    created_at timestamptz not null default now()
  );
  create index timers_due on timers (due_at);
`;

/**
 * The CTEs an append adds for its timers (postgres-event-store.ts), from eight parameters starting
 * at `$first` (timerChangesValues). `single`: one append, gated on its events being written;
 * `group`: several appends in one statement, each timer joined to its command in `go`.
 */
export function timerChangesSql(first: number, mode: 'single' | 'group'): string {
  const $ = (i: number) => `$${first + i}`;
  const gate = mode === 'single' ? 'where exists (select 1 from inserted)' : 'join go on go.i = t.cmd';
  const clearGate =
    mode === 'single' ? 'and exists (select 1 from inserted)' : 'and c.cmd in (select i from go)';
  return `
  timers_set as (
    insert into timers (key, kind, payload, due_at, traceparent)
    select t.key, t.kind, t.payload, t.due_at, t.traceparent
    from unnest(${$(0)}::int[], ${$(1)}::text[], ${$(2)}::text[], ${$(3)}::jsonb[], ${$(4)}::timestamptz[], ${$(5)}::text[])
      as t(cmd, key, kind, payload, due_at, traceparent)
    ${gate}
    on conflict (key) do update set kind = excluded.kind, payload = excluded.payload, due_at = excluded.due_at,
      traceparent = excluded.traceparent, claimed_by = null, claimed_until = null, attempts = 0, last_error = null
  ), timers_cleared as (
    delete from timers using unnest(${$(6)}::int[], ${$(7)}::text[]) as c(cmd, key)
    where timers.key = c.key ${clearGate}
  )`;
}

/** Bind values for timerChangesSql: each append's changes, numbered from 1 as its command. */
export function timerChangesValues(
  appends: readonly { timers?: TimerChanges | undefined; traceparent?: string | undefined }[],
): unknown[] {
  const set = appends.flatMap((a, i) =>
    (a.timers?.set ?? []).map((t) => ({ cmd: i + 1, t, tp: a.traceparent })),
  );
  const clear = appends.flatMap((a, i) => (a.timers?.clear ?? []).map((key) => ({ cmd: i + 1, key })));
  return [
    set.map((x) => x.cmd),
    set.map((x) => x.t.key),
    set.map((x) => x.t.kind),
    set.map((x) => JSON.stringify(x.t.payload ?? {})),
    set.map((x) => x.t.dueAt),
    set.map((x) => x.tp ?? null),
    clear.map((x) => x.cmd),
    clear.map((x) => x.key),
  ];
}

const claimSql = `
  with picked as (
    select key from timers
    where due_at <= now() and (claimed_until is null or claimed_until <= now())
    order by due_at limit $3
    for update skip locked
  )
  update timers t set claimed_by = $1, claimed_until = now() + $2 * interval '1 millisecond'
  from picked where t.key = picked.key
  returning t.key, t.kind, t.payload, t.due_at, t.attempts, t.last_error, t.claimed_until, t.traceparent`;

/** Fired timers go; only where this claim still holds them (the fence). */
const doneSql = 'delete from timers where key = any($1::text[]) and claimed_by = $2';

const failedSql = `
  update timers t set claimed_by = null, claimed_until = null, attempts = t.attempts + 1,
    last_error = f.error, due_at = now() + f.delay_ms * interval '1 millisecond'
  from unnest($1::text[], $2::text[], $3::int[]) as f(key, error, delay_ms)
  where t.key = f.key and t.claimed_by = $4`;

interface TimerRow {
  key: string;
  kind: string;
  payload: Record<string, unknown>;
  due_at: Date;
  attempts: number;
  last_error: string | null;
  claimed_until: Date | null;
  traceparent: string | null;
}

const fromRow = (r: TimerRow): DueTimer => ({
  key: r.key,
  kind: r.kind,
  payload: r.payload,
  dueAt: r.due_at,
  attempts: r.attempts,
  lastError: r.last_error ?? undefined,
  claimedUntil: r.claimed_until ?? undefined,
  traceparent: r.traceparent ?? undefined,
});

/** Timers that fire soonest first (an operator's "what happens next"), at most `limit`. */
export async function listTimers(
  db: Queryable,
  options: { limit: number; kind?: string },
): Promise<DueTimer[]> {
  const { rows } = await db.query<TimerRow>(
    `select key, kind, payload, due_at, attempts, last_error, claimed_until, traceparent from timers
     where $2::text is null or kind = $2 order by due_at limit $1`,
    [options.limit, options.kind ?? null],
  );
  return rows.map(fromRow);
}

/** Timers set, at most `cap` counted (the count stays cheap with a large backlog). */
export async function countTimers(db: Queryable, cap = 100_000): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'select count(*)::int as n from (select 1 from timers limit $1) t',
    [cap],
  );
  return rows[0]?.n ?? 0;
}

/** What a handler does with a timer that fired; throwing retries it later (with backoff). */
export type TimerHandler = (timer: DueTimer) => Promise<void>;

export interface TimerRunnerOptions {
  db: Queryable;
  logger: Logger;
  registry: Registry;
  /** Handlers by kind; a timer of another kind waits (a newer replica may know it) and is logged. */
  handlers: Record<string, TimerHandler>;
  /** This replica's claim token prefix (unique per process). */
  owner: string;
  /** How often to look for due timers when none are due (ms): the most a timer fires late. */
  pollMs: number;
  /** How long a claim holds before another replica may fire the timer (ms). */
  leaseMs: number;
  /** Timers claimed and fired at once at most. */
  batch?: number;
  /** Delay before firing a failed timer again: attempts → ms (default doubling from 1 s to 5 min). */
  retryDelayMs?: (attempts: number) => number;
}

export interface TimerRunner {
  /** Stops claiming and waits for the timers being fired (and their settling) to finish. */
  stop(): Promise<void>;
}

const defaultRetryDelay = (attempts: number) => Math.min(1000 * 2 ** attempts, 5 * 60 * 1000);

function metrics(registry: Registry) {
  return {
    fired: counter(registry, {
      name: 'conveyor_timers_fired_total',
      help: 'Durable timers fired, by kind and outcome (done; failed: fired again later)',
      labelNames: ['kind', 'outcome'],
    }),
    lateness: histogram(registry, {
      name: 'conveyor_timer_lateness_seconds',
      help: 'From a durable timer being due to its handler starting',
      labelNames: ['kind'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15, 60, 300],
    }),
    due: gauge(registry, {
      name: 'conveyor_timers_due',
      help: 'Durable timers due and not fired yet, as this replica last counted them (at most 10,000)',
    }),
  };
}

/**
 * Claims due timers and fires them until stopped: a claim of up to `batch` rows, the handlers run
 * together, then the fired timers are deleted and the failed ones rescheduled, each in one
 * statement fenced by the claim. A full batch claims again at once; otherwise it waits `pollMs`.
 * A failed round (Postgres away) is logged and tried again at the next poll.
 */
export function startTimerRunner(options: TimerRunnerOptions): TimerRunner {
  const { db, logger, handlers } = options;
  const batch = options.batch ?? 50;
  const retryDelay = options.retryDelayMs ?? defaultRetryDelay;
  const m = metrics(options.registry);
  let round = 0;
  const stopping = new AbortController();

  const fireAll = async (claim: string, timers: DueTimer[]) => {
    const done: string[] = [];
    const failed: { key: string; error: string; delay: number }[] = [];
    await Promise.all(
      timers.map(async (timer) => {
        const handler = handlers[timer.kind];
        m.lateness.observe({ kind: timer.kind }, Math.max(0, Date.now() - timer.dueAt.getTime()) / 1000);
        try {
          if (!handler) throw new Error(`no handler for timers of kind ${timer.kind}`);
          // A trace of its own, linked to the one that set the timer (which may be hours old).
          await withSpan(
            `timer ${timer.kind}`,
            { attributes: { 'conveyor.timer_key': timer.key }, links: linkTo(timer.traceparent) },
            () => handler(timer),
          );
          done.push(timer.key);
          m.fired.inc({ kind: timer.kind, outcome: 'done' });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          const delay = retryDelay(timer.attempts + 1);
          failed.push({ key: timer.key, error: message.slice(0, 1000), delay });
          m.fired.inc({ kind: timer.kind, outcome: 'failed' });
          logger.warn(
            {
              timer: timer.key,
              kind: timer.kind,
              attempts: timer.attempts + 1,
              retryInMs: delay,
              err: error,
            },
            'timer failed; firing it again later',
          );
        }
      }),
    );
    if (done.length > 0)
      await db.query({ name: 'conveyor-timers-done', text: doneSql, values: [done, claim] });
    if (failed.length > 0)
      await db.query({
        name: 'conveyor-timers-failed',
        text: failedSql,
        values: [failed.map((f) => f.key), failed.map((f) => f.error), failed.map((f) => f.delay), claim],
      });
  };

  const claimAndFire = async (): Promise<boolean> => {
    const claim = `${options.owner}:${++round}`;
    const { rows } = await db.query<TimerRow>({
      name: 'conveyor-timers-claim',
      text: claimSql,
      values: [claim, options.leaseMs, batch],
    });
    if (rows.length > 0) await fireAll(claim, rows.map(fromRow));
    return rows.length === batch;
  };

  const countDue = async () => {
    const { rows } = await db.query<{ n: number }>(
      `select count(*)::int as n from (select 1 from timers where due_at <= now() limit 10000) d`,
    );
    m.due.set(rows[0]?.n ?? 0);
  };

  const loop = (async () => {
    let lastCount = 0;
    while (!stopping.signal.aborted) {
      try {
        let more = true;
        for (let i = 0; more && i < 100 && !stopping.signal.aborted; i++) more = await claimAndFire();
        if (Date.now() - lastCount >= 5000) {
          lastCount = Date.now();
          await countDue();
        }
      } catch (error) {
        logger.warn({ err: error }, 'firing due timers failed; trying again at the next poll');
      }
      // Resolves early (rejecting, ignored) when stopped.
      await sleep(options.pollMs, undefined, { signal: stopping.signal }).catch(() => {});
    }
  })();

  return {
    async stop() {
      stopping.abort();
      await loop;
    },
  };
}
