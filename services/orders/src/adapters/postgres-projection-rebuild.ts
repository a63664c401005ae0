import { type Pool, type PoolClient, PostgresEventStore } from '@conveyor/platform';
import { aborted } from '@conveyor/platform/errors';
import type { RebuildSession, RebuildTarget } from '../app/rebuild-target.ts';
import { liveOrderTable, PostgresOrderReadModels, plainTableName } from './postgres-read-models.ts';

export interface PostgresProjectionRebuildOptions {
  /** The live read-model table; the shadow is `<live>_rebuild`. */
  live?: string;
  /** How long the swap waits for the live table before giving up (ABORTED); readers queue behind it meanwhile. */
  lockTimeoutMs?: number;
  /** Per statement inside the swap (the reconciliation scans the events' index). */
  swapStatementTimeoutMs?: number;
}

/**
 * Build-beside-then-swap for the order read model. One rebuild at a time
 * per schema (a session advisory lock on a connection held for the whole
 * rebuild; the swap transaction runs on that same connection, so the swap
 * never waits for a pool whose connections are all stuck behind its lock).
 */
export class PostgresProjectionRebuild implements RebuildTarget {
  readonly #pool: Pool;
  readonly #live: string;
  readonly #shadow: string;
  readonly #lockTimeoutMs: number;
  readonly #swapStatementTimeoutMs: number;

  constructor(pool: Pool, options: PostgresProjectionRebuildOptions = {}) {
    this.#pool = pool;
    this.#live = plainTableName(options.live ?? liveOrderTable);
    this.#shadow = plainTableName(`${this.#live}_rebuild`);
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 5000;
    this.#swapStatementTimeoutMs = options.swapStatementTimeoutMs ?? 120_000;
  }

  async exclusively<T>(work: (session: RebuildSession) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    const key = `conveyor.rebuild.${this.#live}`;
    const lock = `hashtext(current_schema() || '.' || $1)`;
    let locked = false;
    try {
      const { rows } = await client.query<{ locked: boolean }>(
        `select pg_try_advisory_lock(${lock}) as locked`,
        [key],
      );
      locked = rows[0]?.locked === true;
      if (!locked) throw aborted('a rebuild is already running');
      return await work(this.#session(client));
    } finally {
      // Unlocked before this resolves, so a rebuild asked for right after is not refused (closing the
      // connection alone frees the lock only once the server has ended that session, a moment later).
      if (locked) {
        // A failed swap may have left its transaction open and aborted: end it first.
        await client.query('rollback').catch(() => {});
        await client.query(`select pg_advisory_unlock(${lock})`, [key]).catch(() => {});
      }
      // Closed, not reused: whatever happened, the session and anything it held end.
      client.release(true);
    }
  }

  #session(client: PoolClient): RebuildSession {
    let deferredIndexes: string[] = [];
    return {
      createShadow: async () => {
        await client.query(`drop table if exists ${this.#shadow}`);
        await client.query(`create table ${this.#shadow} (like ${this.#live} including all)`);
        // Keep the indexes behind constraints (the primary key the upserts need); build the others after the copy.
        const { rows } = await client.query<{ name: string; def: string }>(
          `select c.relname as name, pg_get_indexdef(i.indexrelid) as def
           from pg_index i join pg_class c on c.oid = i.indexrelid
           where i.indrelid = $1::regclass
             and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)`,
          [this.#shadow],
        );
        for (const index of rows) await client.query(`drop index ${quoteIdent(index.name)}`);
        deferredIndexes = rows.map((r) => r.def);
        return new PostgresOrderReadModels(this.#pool, this.#shadow);
      },
      indexShadow: async () => {
        for (const def of deferredIndexes) await client.query(def);
        deferredIndexes = [];
      },
      swap: async (finish) => {
        try {
          await client.query('begin');
          await client.query(`set local lock_timeout = ${this.#lockTimeoutMs}`);
          await client.query(`set local statement_timeout = ${this.#swapStatementTimeoutMs}`);
          // EXCLUSIVE: the live projector's writes wait, reads go on until the rename.
          await client.query(`lock table ${this.#live} in exclusive mode`);
          await finish({
            shadow: new PostgresOrderReadModels(client, this.#shadow),
            // The store only calls query(); a client is enough. Reads see this transaction.
            events: new PostgresEventStore(client),
          });
          await replaceTable(client, this.#live, this.#shadow);
          await client.query('commit');
        } catch (error) {
          await client.query('rollback').catch(() => {});
          if ((error as { code?: string }).code === '55P03') {
            throw aborted(`${this.#live} stayed busy for ${this.#lockTimeoutMs} ms; run the rebuild again`);
          }
          throw error;
        }
      },
    };
  }
}

/**
 * Drops `live` and renames `shadow` (a LIKE … INCLUDING ALL copy) into its
 * place, giving each of the shadow's indexes (and constraints) the name of
 * the live index with the same definition, so names stay those of the
 * migrations and the next rebuild's copy does not collide with them.
 */
async function replaceTable(client: PoolClient, live: string, shadow: string): Promise<void> {
  const liveIndexes = await indexesOf(client, live);
  const shadowIndexes = await indexesOf(client, shadow);
  await client.query(`drop table ${live}`);
  await client.query(`alter table ${shadow} rename to ${live}`);
  for (const index of shadowIndexes) {
    const twin = liveIndexes.find((l) => l.shape === index.shape);
    if (twin && twin.name !== index.name) {
      await client.query(`alter index ${quoteIdent(index.name)} rename to ${quoteIdent(twin.name)}`);
    }
  }
}

async function indexesOf(client: PoolClient, table: string): Promise<{ name: string; shape: string }[]> {
  const { rows } = await client.query<{ name: string; def: string }>(
    `select c.relname as name, pg_get_indexdef(i.indexrelid) as def
     from pg_index i join pg_class c on c.oid = i.indexrelid where i.indrelid = $1::regclass`,
    [table],
  );
  // "CREATE UNIQUE INDEX <name> ON <schema>.<table> USING btree (...)" without name and table.
  return rows.map((r) => ({
    name: r.name,
    shape: r.def.replace(/^CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?\S+ /, '$1'),
  }));
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;
