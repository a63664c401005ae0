import type { EventStore, StoredEvent } from '@conveyor/platform/core';
import { decodeOrderEvent, orderIdOfStream, orderStreamId } from './order-event-mapping.ts';
import { advance, foldStored, repairFromStore, type VersionedEvent } from './order-projection.ts';
import type { ProjectedOrder } from './order-projection-table.ts';
import type { RebuildTarget, ShadowTable, StoreReads } from './rebuild-target.ts';

/**
 * Progress against the head position (`total`, taken at the start, raised as
 * events arrive). While copying, `processed` counts the events read (they
 * are read stream by stream, not by position); from catching up on, it is
 * the last position read. Positions can skip numbers (an append that lost
 * its race used one), so these measure progress rather than count events
 * exactly. At 'done' both are equal.
 */
export interface RebuildProgress {
  phase: 'copying' | 'catching-up' | 'swapping' | 'done';
  processed: number;
  total: number;
}

/** The prefix of order streams; other streams in the store are not projected. */
const orderStreamPrefix = orderStreamId('');

export interface RebuildProjectionsDeps {
  store: Pick<EventStore, 'readAll' | 'readByStream' | 'readStream' | 'headPosition'>;
  target: RebuildTarget;
  /** Events per read; rows are written once per batch. */
  batchSize?: number;
}

/**
 * Rebuilds the order read model from the event store without downtime:
 * build a shadow beside the live table while the live projector keeps
 * going, catch up, then swap inside one short transaction.
 *
 * The bulk copy reads the events up to the head stream by stream, so each
 * order is folded and written once (no row read back, none rewritten), into
 * a shadow that gets its secondary indexes only afterwards. Catching up
 * then reads by position from that head, as the live projector does.
 * Positions are insertion order, not commit order: a transaction can commit
 * after a higher position was read, so the swap also reconciles every row
 * against its stream's last version.
 */
export function rebuildProjections(deps: RebuildProjectionsDeps) {
  const batchSize = deps.batchSize ?? 1000;
  return (onProgress: (progress: RebuildProgress) => void = () => {}): Promise<void> =>
    deps.target.exclusively(async (session) => {
      const shadow = await session.createShadow();
      const cursor = { position: 0, total: await deps.store.headPosition() };
      const report = (phase: RebuildProgress['phase']) => {
        cursor.total = Math.max(cursor.total, cursor.position);
        onProgress({ phase, processed: cursor.position, total: cursor.total });
      };
      const outside = { table: shadow, events: deps.store };

      const upTo = cursor.total;
      await copyByStream(deps.store, shadow, upTo, batchSize, (read) => {
        cursor.position = Math.min(read, upTo);
        report('copying');
      });
      await session.indexShadow();
      cursor.position = upTo;
      cursor.total = await deps.store.headPosition();
      await copyAfter(cursor, batchSize, outside, () => report('catching-up'));
      // Most late commits are repaired here, so the swap has little left to do.
      await reconcile(outside, batchSize);
      report('swapping');
      await session.swap(async (inside) => {
        const into = { table: inside.shadow, events: inside.events };
        await copyAfter(cursor, batchSize, into, () => {});
        await reconcile(into, batchSize);
      });
      report('done');
    });
}

/**
 * Folds every order stream's events up to position `upTo` into the table,
 * reading them in (stream, version) order: a stream's events are
 * consecutive, so its row is complete when the next stream starts (or the
 * store ends), and each row is written once.
 */
async function copyByStream(
  store: Pick<EventStore, 'readByStream' | 'readStream'>,
  table: ShadowTable,
  upTo: number,
  batchSize: number,
  afterBatch: (eventsRead: number) => void,
): Promise<void> {
  let after: { streamId: string; version: number } | undefined;
  let open: StoredEvent[] = []; // the stream the last batch ended in, maybe continued by the next
  let read = 0;
  for (;;) {
    const batch = await store.readByStream({
      prefix: orderStreamPrefix,
      after,
      maxPosition: upTo,
      limit: batchSize,
    });
    read += batch.length;
    const complete: StoredEvent[][] = [];
    for (const stored of batch) {
      if (open.length > 0 && open[0]!.streamId !== stored.streamId) {
        complete.push(open);
        open = [];
      }
      open.push(stored);
    }
    const end = batch.length < batchSize;
    if (end && open.length > 0) {
      complete.push(open);
      open = [];
    }
    const rows: ProjectedOrder[] = [];
    for (const stream of complete) {
      const row = await foldStream(store, stream);
      if (row) rows.push(row);
    }
    await table.upsertIfNewer(rows);
    afterBatch(read);
    const last = batch.at(-1);
    if (end || !last) return;
    after = { streamId: last.streamId, version: last.version };
  }
}

/** The row of one order from its events 1..n read in order; a gap (never expected) is refolded from the store. */
async function foldStream(
  store: Pick<EventStore, 'readStream'>,
  stream: readonly StoredEvent[],
): Promise<ProjectedOrder | undefined> {
  const next = advance(
    undefined,
    stream.map((stored) => ({ version: stored.version, event: decodeOrderEvent(stored) })),
  );
  if (next === 'gap') {
    const first = stream[0]!;
    return foldStored(await store.readStream(first.streamId, { toVersion: stream.at(-1)?.version }));
  }
  return next === 'duplicate' || next === 'empty' ? undefined : next;
}

interface Into {
  table: ShadowTable;
  events: StoreReads;
}

/** Reads the events after the cursor, batch by batch, into the table: all of them, or up to `until`. */
async function copyAfter(
  cursor: { position: number },
  batchSize: number,
  into: Into,
  afterBatch: () => void,
  until = Number.POSITIVE_INFINITY,
): Promise<void> {
  while (cursor.position < until) {
    const batch = await into.events.readAll({ afterPosition: cursor.position, limit: batchSize });
    const last = batch.at(-1);
    if (!last) return;
    await applyBatch(into, batch);
    cursor.position = last.position;
    afterBatch();
    if (batch.length < batchSize) return;
  }
}

/** Folds a batch per order onto the rows it already has; orders with a gap are refolded from the store. */
async function applyBatch(into: Into, batch: readonly StoredEvent[]): Promise<void> {
  const byOrder = new Map<string, VersionedEvent[]>();
  for (const stored of batch) {
    if (!stored.streamId.startsWith('order-')) continue;
    const orderId = orderIdOfStream(stored.streamId);
    const events = byOrder.get(orderId) ?? [];
    events.push({ version: stored.version, event: decodeOrderEvent(stored) });
    byOrder.set(orderId, events);
  }
  const rows = await into.table.getOrders([...byOrder.keys()]);
  const upserts: ProjectedOrder[] = [];
  for (const [orderId, events] of byOrder) {
    const next = advance(rows.get(orderId), events);
    if (next === 'gap') {
      const stored = await into.events.readStream(orderStreamId(orderId), {
        toVersion: events.at(-1)?.version,
      });
      const folded = foldStored(stored);
      if (folded) upserts.push(folded);
    } else if (next !== 'duplicate' && next !== 'empty') {
      upserts.push(next);
    }
  }
  await into.table.upsertIfNewer(upserts);
}

/** Refolds, from the store, every order whose row is missing or behind its stream. */
async function reconcile(into: Into, pageSize: number): Promise<void> {
  let afterOrderId: string | undefined;
  for (;;) {
    const stale = await into.table.staleOrders({ afterOrderId, limit: pageSize });
    for (const orderId of stale) await repairFromStore(into, orderId);
    afterOrderId = stale.at(-1);
    if (stale.length < pageSize) return;
  }
}
