import type { EventStore } from '@conveyor/platform/core';
import type { OrderProjectionTable } from './order-projection-table.ts';

export interface ShadowTable extends OrderProjectionTable {
  /** Orders (ascending ids) whose row is missing or behind their stream's last stored version. */
  staleOrders(page: { afterOrderId: string | undefined; limit: number }): Promise<string[]>;
}

/** What a rebuild reads of the store. */
export type StoreReads = Pick<EventStore, 'readAll' | 'readStream'>;

export interface RebuildSession {
  /**
   * An empty table shaped like the live one, replacing any a failed rebuild
   * left, with its primary key but without its other indexes: a bulk copy
   * is cheaper without them.
   */
  createShadow(): Promise<ShadowTable>;
  /** Builds the shadow's other indexes (each in one pass over the copied rows). */
  indexShadow(): Promise<void>;
  /**
   * One transaction: blocks writes to the live table (reads go on), runs
   * `finish` with the shadow and the store read inside that transaction,
   * then puts the shadow in the live table's place. Writers waiting on the
   * live table continue on the new one, which they find by name.
   */
  swap(finish: (inside: { shadow: ShadowTable; events: StoreReads }) => Promise<void>): Promise<void>;
}

export interface RebuildTarget {
  /** Runs `work` as the only rebuild; rejects with ABORTED when another one is running. */
  exclusively<T>(work: (session: RebuildSession) => Promise<T>): Promise<T>;
}
