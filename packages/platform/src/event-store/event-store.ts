import type { CloudEvent } from '../messaging/cloud-event.ts';
import type { TimerChanges } from '../timers/durable-timers.ts';

/** Where an event came from: who asked, in reply to what, inside which trace. */
export interface EventMetadata {
  /** The request or command that caused the event (e.g. an idempotency key or request id). */
  causationId?: string;
  /** Shared by everything one user action set off. */
  correlationId?: string;
  /** W3C trace context of the command, kept so a replayed event links back to it. */
  traceparent?: string;
  /** The user on whose behalf the command ran. */
  actorId?: string;
}

export interface NewEvent {
  eventId: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
}

export interface StoredEvent {
  streamId: string;
  /** 1 for a stream's first event; gapless. */
  version: number;
  /** Global order of commit-time insertion (not of commit): positions, never timestamps. */
  position: number;
  eventId: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
  recordedAt: Date;
}

export interface AppendOptions {
  /** The version the caller's decision was based on; 0 for a new stream. */
  expectedVersion: number;
  /** Integration events to publish, written to the outbox atomically with the events. */
  outbox?: readonly CloudEvent[];
  /**
   * Claims (scope, key) for this stream atomically with the append. When the
   * key was already claimed, nothing is appended and the result names the
   * stream that holds it.
   */
  idempotency?: { scope: string; key: string };
  /** Durable timers set or cleared atomically with the events (ADR 0032). */
  timers?: TimerChanges;
}

export type AppendResult =
  | { kind: 'appended'; events: StoredEvent[] }
  | { kind: 'duplicate'; streamId: string };

/** The stream moved on since the caller read it; reload and decide again. */
export class ConcurrencyConflict extends Error {
  override name = 'ConcurrencyConflict';
  readonly streamId: string;
  readonly expectedVersion: number;
  constructor(streamId: string, expectedVersion: number) {
    super(`stream ${streamId} is no longer at version ${expectedVersion}`);
    this.streamId = streamId;
    this.expectedVersion = expectedVersion;
  }
}

export interface Snapshot {
  streamId: string;
  version: number;
  state: unknown;
}

/**
 * An append-only store of event streams.
 *
 * Contract (proved by eventStoreContract against every implementation):
 * - append is atomic with its outbox rows and idempotency claim; either all
 *   are stored or none;
 * - an append at a stale or future expectedVersion throws ConcurrencyConflict
 *   and stores nothing, so versions are gapless and unique per stream;
 * - events are immutable; readStream returns them in version order,
 *   readAll in position order, readByStream in (stream id, version) order;
 * - safe for concurrent use by many callers and processes.
 */
export interface EventStore {
  appendToStream(
    streamId: string,
    events: readonly NewEvent[],
    options: AppendOptions,
  ): Promise<AppendResult>;
  readStream(streamId: string, range?: { fromVersion?: number; toVersion?: number }): Promise<StoredEvent[]>;
  /** Events with position > afterPosition, at most `limit`, in position order. */
  readAll(options: { afterPosition: number; limit: number }): Promise<StoredEvent[]>;
  /**
   * Events of the streams whose id starts with `prefix`, at positions up to
   * `maxPosition`, after `after` in (stream id, version) order, at most
   * `limit`: each stream's events arrive together, so a bulk fold (a
   * rebuild) computes each stream's result once instead of revisiting it.
   */
  readByStream(options: {
    prefix: string;
    after: { streamId: string; version: number } | undefined;
    maxPosition: number;
    limit: number;
  }): Promise<StoredEvent[]>;
  /** The stream holding an idempotency claim, if any. */
  findIdempotencyClaim(scope: string, key: string): Promise<string | undefined>;
  loadSnapshot(streamId: string): Promise<Snapshot | undefined>;
  /** Keeps the snapshot with the highest version. */
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  /** Highest position in use; 0 for an empty store. */
  headPosition(): Promise<number>;
}
