import type { CloudEvent } from '../messaging/cloud-event.ts';
import type { TimerSpec } from '../timers/durable-timers.ts';
import {
  type AppendOptions,
  type AppendResult,
  ConcurrencyConflict,
  type EventStore,
  type NewEvent,
  type Snapshot,
  type StoredEvent,
} from './event-store.ts';

/** The EventStore contract in memory, for unit tests of code that uses a store. */
export class InMemoryEventStore implements EventStore {
  readonly #events: StoredEvent[] = [];
  readonly #streams = new Map<string, StoredEvent[]>();
  readonly #claims = new Map<string, string>();
  readonly #snapshots = new Map<string, Snapshot>();
  readonly #eventIds = new Set<string>();
  /** What would have gone to the outbox, in append order. */
  readonly outbox: CloudEvent[] = [];
  /** The durable timers set by appends and not cleared, by key. */
  readonly timers = new Map<string, TimerSpec>();
  /** How many times a stream was read: what a use case costs in round trips. */
  streamReads = 0;

  async appendToStream(
    streamId: string,
    events: readonly NewEvent[],
    options: AppendOptions,
  ): Promise<AppendResult> {
    const stream = this.#streams.get(streamId) ?? [];
    if (stream.length !== options.expectedVersion)
      throw new ConcurrencyConflict(streamId, options.expectedVersion);
    const claimKey = options.idempotency && `${options.idempotency.scope}\u0000${options.idempotency.key}`;
    if (claimKey) {
      const holder = this.#claims.get(claimKey);
      if (holder !== undefined) return { kind: 'duplicate', streamId: holder };
    }
    for (const e of events) {
      if (this.#eventIds.has(e.eventId)) throw new Error(`duplicate event id ${e.eventId}`);
    }
    const recordedAt = new Date();
    const stored = events.map(
      (e, i): StoredEvent => ({
        streamId,
        version: options.expectedVersion + i + 1,
        position: this.#events.length + i + 1,
        eventId: e.eventId,
        type: e.type,
        data: structuredClone(e.data),
        metadata: { ...e.metadata },
        recordedAt,
      }),
    );
    if (claimKey) this.#claims.set(claimKey, streamId);
    for (const e of stored) this.#eventIds.add(e.eventId);
    this.#events.push(...stored);
    this.#streams.set(streamId, [...stream, ...stored]);
    this.outbox.push(...(options.outbox ?? []));
    for (const key of options.timers?.clear ?? []) this.timers.delete(key);
    for (const timer of options.timers?.set ?? []) this.timers.set(timer.key, { ...timer });
    return { kind: 'appended', events: stored.map((e) => structuredClone(e)) };
  }

  async readStream(streamId: string, range: { fromVersion?: number; toVersion?: number } = {}) {
    this.streamReads++;
    const from = range.fromVersion ?? 1;
    const to = range.toVersion ?? Number.MAX_SAFE_INTEGER;
    return (this.#streams.get(streamId) ?? [])
      .filter((e) => e.version >= from && e.version <= to)
      .map((e) => structuredClone(e));
  }

  async readAll(options: { afterPosition: number; limit: number }) {
    return this.#events
      .filter((e) => e.position > options.afterPosition)
      .slice(0, options.limit)
      .map((e) => structuredClone(e));
  }

  async readByStream(options: Parameters<EventStore['readByStream']>[0]) {
    const after = options.after;
    return [...this.#streams.keys()]
      .filter((id) => id.startsWith(options.prefix) && (!after || id >= after.streamId))
      .sort()
      .flatMap((id) => this.#streams.get(id) ?? [])
      .filter(
        (e) =>
          e.position <= options.maxPosition &&
          (!after || e.streamId > after.streamId || e.version > after.version),
      )
      .slice(0, options.limit)
      .map((e) => structuredClone(e));
  }

  async findIdempotencyClaim(scope: string, key: string) {
    return this.#claims.get(`${scope}\u0000${key}`);
  }

  async loadSnapshot(streamId: string) {
    const snapshot = this.#snapshots.get(streamId);
    return snapshot && structuredClone(snapshot);
  }

  async saveSnapshot(snapshot: Snapshot) {
    const current = this.#snapshots.get(snapshot.streamId);
    if (!current || current.version < snapshot.version)
      this.#snapshots.set(snapshot.streamId, structuredClone(snapshot));
  }

  async headPosition() {
    return this.#events.length;
  }
}
