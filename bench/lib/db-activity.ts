import type pg from 'pg';

/**
 * What the system asked of Postgres over a phase, read from the server itself:
 * - statements: every statement the services ran in one database (pg_stat_statements, which
 *   counts BEGIN and COMMIT too: one statement is one round trip), when the extension is loaded;
 * - commits: write transactions, from how far the transaction id counter moved (only a
 *   transaction that writes takes an id, and each such commit flushes WAL).
 * The observer's own queries carry the marker comment and are left out; they never write.
 */
export interface DbMark {
  statements: Map<string, { calls: number; ms: number; query: string }> | undefined;
  xid: bigint;
}

export interface DbActivity {
  statements: number | undefined;
  commits: number;
  /** The most frequent statements in the phase, most first. */
  top: { calls: number; ms: number; query: string }[];
  /** The statements that took the most execution time in the phase, most first. */
  costliest: { calls: number; ms: number; query: string }[];
}

const marker = '/* bench-observer */';

export async function hasStatementStats(observer: pg.Pool): Promise<boolean> {
  try {
    await observer.query(`${marker} create extension if not exists pg_stat_statements`);
    await observer.query(`${marker} select 1 from pg_stat_statements limit 1`);
    return true;
  } catch {
    return false;
  }
}

const prepared = new WeakSet<pg.Pool>();

export async function markDb(observer: pg.Pool, database: string, withStatements: boolean): Promise<DbMark> {
  if (withStatements && !prepared.has(observer)) {
    // The view lives in each database; the server-wide counters behind it are shared.
    await observer.query(`${marker} create extension if not exists pg_stat_statements`);
    prepared.add(observer);
  }
  const xid = BigInt(
    (
      await observer.query<{ x: string }>(
        `${marker} select pg_snapshot_xmax(pg_current_snapshot())::text as x`,
      )
    ).rows[0]!.x,
  );
  if (!withStatements) return { statements: undefined, xid };
  const { rows } = await observer.query<{ queryid: string; calls: string; ms: number; query: string }>(
    `${marker} select s.queryid::text, s.calls::text, s.total_exec_time as ms, s.query from pg_stat_statements s
      join pg_database d on d.oid = s.dbid
     where d.datname = $1 and s.query not like '${marker}%'`,
    [database],
  );
  return {
    statements: new Map(
      rows.map((r) => [r.queryid, { calls: Number(r.calls), ms: Number(r.ms), query: r.query }]),
    ),
    xid,
  };
}

export function activityBetween(before: DbMark, after: DbMark): DbActivity {
  const commits = Number(after.xid - before.xid);
  if (!after.statements || !before.statements)
    return { statements: undefined, commits, top: [], costliest: [] };
  const deltas = [...after.statements].map(([id, s]) => ({
    calls: s.calls - (before.statements?.get(id)?.calls ?? 0),
    ms: s.ms - (before.statements?.get(id)?.ms ?? 0),
    query: s.query.replace(/\s+/g, ' ').trim().slice(0, 160),
  }));
  const changed = deltas.filter((d) => d.calls > 0).sort((a, b) => b.calls - a.calls);
  return {
    statements: changed.reduce((sum, d) => sum + d.calls, 0),
    commits,
    top: changed.slice(0, 12),
    costliest: [...changed].sort((a, b) => b.ms - a.ms).slice(0, 12),
  };
}
