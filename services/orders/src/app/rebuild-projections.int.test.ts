import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AppError } from '@conveyor/platform';
import { waitUntil } from '@conveyor/stack';
import { v7 as uuidv7 } from 'uuid';
import { PostgresProjectionRebuild } from '../adapters/postgres-projection-rebuild.ts';
import { decide, fold, type OrderCommand } from '../domain/order.ts';
import { lifecycle, type OrdersDb, ordersDb } from '../testing/order-streams.ts';
import { decodeOrderEvent, encodeOrderEvent, orderStreamId } from './order-event-mapping.ts';
import { type RebuildProgress, rebuildProjections } from './rebuild-projections.ts';
import type { RebuildSession, RebuildTarget } from './rebuild-target.ts';

describe('rebuildProjections (real Postgres)', () => {
  let t: OrdersDb;
  let target: PostgresProjectionRebuild;
  const userId = uuidv7();

  before(async () => {
    t = await ordersDb('order_rebuild');
    target = new PostgresProjectionRebuild(t.pool);
  });

  after(async () => {
    await t?.close();
  });

  /** Appends and projects at once, like the command loop and the consumer together. */
  async function run(orderId: string, commands: readonly OrderCommand[]): Promise<void> {
    for (const command of commands) {
      for (const e of await t.append(orderId, command)) {
        await t.project(orderId, e.version, decodeOrderEvent(e));
      }
    }
  }

  /** The Postgres target, with its swap done by `swap` (which calls the session's own swap). */
  const swappingWith = (
    swap: (session: RebuildSession, finish: Parameters<RebuildSession['swap']>[0]) => Promise<void>,
  ): RebuildTarget => ({
    exclusively: (work) =>
      target.exclusively((session) =>
        work({
          createShadow: () => session.createShadow(),
          indexShadow: () => session.indexShadow(),
          swap: (finish) => swap(session, finish),
        }),
      ),
  });

  const waitingOnLocks = async () =>
    (
      await t.pool.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity
         where datname = current_database() and wait_event_type = 'Lock'`,
      )
    ).rows[0]?.n ?? 0;

  /** Begins a transaction appending `command`'s event to an order and leaves it open. */
  async function lateCommit(orderId: string, version: number, command: OrderCommand) {
    const client = await t.pool.connect();
    const stored = await t.store.readStream(orderStreamId(orderId));
    const [event] = decide(command, fold(stored.map(decodeOrderEvent)));
    const { type, data } = encodeOrderEvent(event!);
    await client.query('begin');
    await client.query(
      'insert into events (stream_id, version, event_id, type, data) values ($1, $2, $3, $4, $5)',
      [orderStreamId(orderId), version, uuidv7(), type, JSON.stringify(data)],
    );
    return async () => {
      await client.query('commit');
      client.release();
    };
  }

  it('rebuilds the same rows as live projection while orders keep changing', async () => {
    const orderIds = Array.from({ length: 200 }, () => uuidv7());
    const commands = orderIds.map((id, i) => lifecycle(id, userId, i));
    // The store first, then live projection of every stored event in position order.
    for (const [i, id] of orderIds.entries()) {
      for (const c of commands[i]!) await t.append(id, c);
    }
    for (const e of await t.store.readAll({ afterPosition: 0, limit: 10_000 })) {
      await t.project(e.streamId.slice('order-'.length), e.version, decodeOrderEvent(e));
    }
    await t.assertRowsMatchStore();
    const snapshot = await t.rows();
    const headBefore = await t.store.headPosition();

    // An event whose position is taken now but which commits only just before the swap.
    const placedOnly = orderIds.find((_, i) => i % 6 === 0)!;
    const commitLate = await lateCommit(placedOnly, 2, { type: 'PayOrder', at: new Date() });
    const touched = new Set([placedOnly]);

    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const id = uuidv7();
        touched.add(id);
        await run(id, lifecycle(id, userId, i));
        const placed = orderIds.find((o, j) => j % 6 === 0 && !touched.has(o));
        if (placed) {
          touched.add(placed);
          await run(placed, [{ type: 'CancelOrder', reason: 'changed my mind', at: new Date() }]);
        }
      }
    })();

    const progress: RebuildProgress[] = [];
    const gated = swappingWith(async (session, finish) => {
      await commitLate();
      await session.swap(finish);
    });
    await rebuildProjections({ store: t.store, target: gated, batchSize: 20 })((p) => progress.push(p));
    writing = false;
    await writer;

    const last = progress.at(-1);
    assert.equal(last?.phase, 'done');
    assert.equal(last?.processed, last?.total);
    assert.ok(last!.total >= headBefore);
    const phases = new Set(progress.map((p) => p.phase));
    for (const phase of ['copying', 'swapping', 'done'] as const) assert.ok(phases.has(phase), phase);
    assert.ok(touched.size > 2, 'orders changed during the rebuild');

    const count = await t.assertRowsMatchStore();
    assert.ok(count > 200);
    const rebuilt = await t.rows();
    // The same content; projected_at tells when the rebuild wrote the row, so it moves.
    const content = (row: Record<string, unknown> | undefined) => ({ ...row, projected_at: undefined });
    for (const [orderId, row] of snapshot) {
      if (!touched.has(orderId)) {
        assert.deepEqual(content(rebuilt.get(orderId)), content(row), `order ${orderId}`);
        assert.ok(rebuilt.get(orderId)!.projected_at! >= row.projected_at!, 'projected_at is the rebuild');
      }
    }
    assert.equal(rebuilt.get(placedOnly)?.status, 'paid', 'the late commit is in the rebuilt row');
  });

  it('lets a rebuild start right after another ended: the lock is released when it ends, not later', async () => {
    // Found by CI: closing the connection released the session lock only once the server noticed.
    for (let i = 0; i < 50; i++) await target.exclusively(async () => i);
  });

  it('keeps the migration’s table, index and constraint names, so it can run again', async () => {
    await rebuildProjections({ store: t.store, target })();
    await rebuildProjections({ store: t.store, target })();
    const { rows } = await t.pool.query<{ name: string }>(
      `select indexrelid::regclass::text as name from pg_index
       where indrelid = 'order_summaries'::regclass order by 1`,
    );
    assert.deepEqual(
      rows.map((r) => r.name),
      ['order_summaries_by_user', 'order_summaries_by_user_status', 'order_summaries_pkey'],
    );
    const { rows: constraints } = await t.pool.query<{ conname: string }>(
      `select conname from pg_constraint where conrelid = 'order_summaries'::regclass order by 1`,
    );
    assert.deepEqual(
      constraints.map((r) => r.conname),
      ['order_summaries_pkey', 'order_summaries_status_check', 'order_summaries_version_check'],
    );
    const { rows: leftovers } = await t.pool.query(
      `select 1 from pg_class where relname like 'order_summaries_rebuild%'`,
    );
    assert.equal(leftovers.length, 0);
    await t.assertRowsMatchStore();
  });

  it('lets reads go on during the swap; live writes wait and then land in the new table', async () => {
    const orderId = uuidv7();
    await run(orderId, lifecycle(orderId, userId, 0));
    let blockedWrite: Promise<void> | undefined;
    const gated = swappingWith((session, finish) =>
      session.swap(async (inside) => {
        await finish(inside);
        // After the swap's last read: only the live projector can apply this.
        blockedWrite = run(orderId, [{ type: 'PayOrder', at: new Date() }]);
        await waitUntil(async () => (await waitingOnLocks()) > 0, {
          timeoutMs: 5000,
          message: 'the projector did not wait for the swap',
        });
        assert.equal((await t.readModels.getOrder(orderId))?.status, 'placed');
      }),
    );
    await rebuildProjections({ store: t.store, target: gated })();
    await blockedWrite;
    assert.equal((await t.readModels.getOrder(orderId))?.status, 'paid');
    await t.assertRowsMatchStore();
  });

  it('runs one rebuild at a time; a second one is ABORTED', async () => {
    const results = await Promise.allSettled([
      rebuildProjections({ store: t.store, target })(),
      rebuildProjections({ store: t.store, target })(),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const rejected = results.find((r) => r.status === 'rejected');
    const error = rejected?.reason as AppError | undefined;
    assert.equal(error?.code, 'ABORTED');
    assert.match(error?.message ?? '', /a rebuild is already running/);
  });

  it('reports done at 0 of 0 for an empty store', async () => {
    const empty = await ordersDb('order_rebuild_empty');
    try {
      const progress: RebuildProgress[] = [];
      await rebuildProjections({ store: empty.store, target: new PostgresProjectionRebuild(empty.pool) })(
        (p) => progress.push(p),
      );
      assert.deepEqual(progress.at(-1), { phase: 'done', processed: 0, total: 0 });
    } finally {
      await empty.close();
    }
  });
});
