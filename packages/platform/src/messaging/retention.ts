import type { Logger } from 'pino';
import type { Queryable } from '../postgres/pool.ts';

const day = 24 * 60 * 60 * 1000;

/** How long a stream keeps an event (ADR 0003): no redelivery comes from further back. */
export const STREAM_MAX_AGE_MS = 30 * day;
/** How far back a republish may reach (ADR 0030): no further than a stream keeps events. */
export const REPUBLISH_WINDOW_MS = STREAM_MAX_AGE_MS;
/**
 * How long consumers' inboxes and idempotency claims are kept (ADR 0030): longer than any
 * redelivery or republish can reach back, so an event seen again is always recognised.
 */
export const INBOX_RETENTION_MS = 35 * day;

/**
 * Why republishing an event recorded at `recordedAt` is refused now, or undefined when it may be:
 * past the window, consumers' inboxes may have forgotten it and would apply its effects again.
 */
export function outsideRepublishWindow(position: number, recordedAt: Date, now: Date): string | undefined {
  const age = now.getTime() - recordedAt.getTime();
  if (age <= REPUBLISH_WINDOW_MS) return undefined;
  return (
    `position ${position} was recorded ${Math.floor(age / day)} days ago, past the ${REPUBLISH_WINDOW_MS / day}-day ` +
    `republish window: consumers keep what they handled for ${INBOX_RETENTION_MS / day} days only, so they ` +
    'could apply it again; republish a newer range'
  );
}

/** Rows one prune call deletes at most. */
export const PRUNE_BATCH = 10_000;

/** Deletes inbox rows older than the retention, at most `batch` per call; answers how many. */
export async function pruneInbox(db: Queryable, now: Date, batch = PRUNE_BATCH): Promise<number> {
  const result = await db.query(
    `delete from inbox where ctid in (select ctid from inbox where processed_at < $1 limit $2)`,
    [new Date(now.getTime() - INBOX_RETENTION_MS), batch],
  );
  return result.rowCount ?? 0;
}

/** Deletes idempotency claims older than the retention, at most `batch` per call; answers how many. */
export async function pruneIdempotencyClaims(db: Queryable, now: Date, batch = PRUNE_BATCH): Promise<number> {
  const result = await db.query(
    `delete from idempotency_claims where ctid in
       (select ctid from idempotency_claims where claimed_at < $1 limit $2)`,
    [new Date(now.getTime() - INBOX_RETENTION_MS), batch],
  );
  return result.rowCount ?? 0;
}

/**
 * Prunes every `everyMs` (default an hour) until stopped; a failed round is logged and tried at
 * the next. Any number of replicas may run it: deleting the same old rows twice is harmless.
 */
export function startPruning(options: {
  logger: Logger;
  prune: (now: Date) => Promise<number>;
  what: string;
  everyMs?: number;
}): { stop(): void } {
  let running = false;
  const round = async () => {
    if (running) return;
    running = true;
    try {
      let removed = 0;
      for (let i = 0; i < 100; i++) {
        const n = await options.prune(new Date());
        removed += n;
        if (n < PRUNE_BATCH) break;
      }
      if (removed > 0) options.logger.info({ removed }, `pruned ${options.what}`);
    } catch (error) {
      options.logger.warn({ err: error }, `pruning ${options.what} failed; trying at the next round`);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(round, options.everyMs ?? 60 * 60 * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
