import { type CloudEvent, encodeData, toHeaders } from '../messaging/cloud-event.ts';
import { traceparentOf, withSpan } from '../observability/telemetry.ts';
import { GroupCommit } from '../postgres/group-commit.ts';
import type { Queryable } from '../postgres/pool.ts';
import { isUniqueViolation } from '../postgres/pool.ts';
import { timerChangesSql, timerChangesValues } from '../timers/durable-timers.ts';
import {
  type AppendOptions,
  type AppendResult,
  ConcurrencyConflict,
  type EventMetadata,
  type EventStore,
  type NewEvent,
  type Snapshot,
  type StoredEvent,
} from './event-store.ts';

/** Tables of the Postgres event store; include in a service's migrations (after the outbox). */
export const eventStoreTablesSql = `
  create table events (
    position bigint generated always as identity primary key,
    stream_id text not null,
    version integer not null check (version > 0),
    event_id uuid not null unique,
    type text not null,
    data jsonb not null,
    metadata jsonb not null default '{}',
    recorded_at timestamptz not null default now(),
    constraint events_stream_version unique (stream_id, version)
  );
  create function events_immutable() returns trigger language plpgsql as $$
  begin
    raise exception 'events are immutable (% on %)', tg_op, tg_table_name;
  end $$;
  create trigger events_immutable before update or delete on events
    for each row execute function events_immutable();
  create table snapshots (
    stream_id text primary key,
    version integer not null,
    state jsonb not null,
    taken_at timestamptz not null default now()
  );
  create table idempotency_claims (
    scope text not null,
    key text not null,
    stream_id text not null,
    claimed_at timestamptz not null default now(),
    primary key (scope, key)
  );
`;

/*
 * One statement, so one round trip and one implicit transaction: check the
 * stream is at the expected version, claim the idempotency key, insert the
 * events and their outbox rows, set and clear the timers they decide. Two
 * appends racing past the version check collide on events_stream_version;
 * the loser stores nothing.
 */
const appendSql = `
  with current_version as (
    select coalesce(max(version), 0) as v from events where stream_id = $1
  ), claim as (
    insert into idempotency_claims (scope, key, stream_id)
    select $7::text, $8::text, $1
    where $7::text is not null and (select v from current_version) = $2
    on conflict do nothing
    returning 1
  ), inserted as (
    insert into events (stream_id, version, event_id, type, data, metadata)
    select $1, $2 + e.ord, e.id, e.type, e.data, e.metadata
    from unnest($3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[]) with ordinality as e(id, type, data, metadata, ord)
    where (select v from current_version) = $2 and ($7::text is null or exists (select 1 from claim))
    returning position, version, event_id, type, data, metadata, recorded_at
  ), outboxed as (
    insert into outbox (event_id, subject, headers, payload)
    select o.id, o.subject, o.headers, o.payload
    from unnest($9::uuid[], $10::text[], $11::jsonb[], $12::bytea[]) as o(id, subject, headers, payload)
    where exists (select 1 from inserted)
  ), ${timerChangesSql(13, 'single')}
  select position, version, event_id, type, data, metadata, recorded_at from inserted order by version
`;

/*
 * Group commit of new streams (expected version 0): several appends in one statement, each with
 * its own checks. A command's stream must not exist yet and its idempotency key must be new;
 * commands that fail either check write nothing and are told apart afterwards (conflict or
 * duplicate), exactly as one append would tell them. A command never shares a group with another
 * of the same stream or the same key (GroupCommit's conflicts), so no two in a group can collide;
 * a collision with a concurrent append (a unique violation) fails the group, whose members then
 * run one by one.
 */
const appendNewStreamsSql = `
  with cmd as (
    select * from unnest($1::text[], $2::text[], $3::text[]) with ordinality as c(stream_id, scope, key, i)
  ), fresh as (
    select c.* from cmd c where not exists (select 1 from events e where e.stream_id = c.stream_id)
  ), claim as (
    insert into idempotency_claims (scope, key, stream_id)
    select scope, key, stream_id from fresh where scope is not null
    on conflict do nothing
    returning scope, key
  ), go as (
    select f.* from fresh f
    where f.scope is null or exists (select 1 from claim c where c.scope = f.scope and c.key = f.key)
  ), inserted as (
    insert into events (stream_id, version, event_id, type, data, metadata)
    select go.stream_id, e.version, e.id, e.type, e.data, e.metadata
    from unnest($4::int[], $5::int[], $6::uuid[], $7::text[], $8::jsonb[], $9::jsonb[])
      as e(cmd, version, id, type, data, metadata)
    join go on go.i = e.cmd
    returning stream_id, position, version, event_id, type, data, metadata, recorded_at
  ), outboxed as (
    insert into outbox (event_id, subject, headers, payload)
    select o.id, o.subject, o.headers, o.payload
    from unnest($10::int[], $11::uuid[], $12::text[], $13::jsonb[], $14::bytea[]) as o(cmd, id, subject, headers, payload)
    join go on go.i = o.cmd
  ), ${timerChangesSql(15, 'group')}
  select stream_id, position, version, event_id, type, data, metadata, recorded_at from inserted
`;

interface PendingAppend {
  streamId: string;
  events: readonly NewEvent[];
  options: AppendOptions;
}

interface EventRow {
  stream_id?: string;
  position: string;
  version: number;
  event_id: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
  recorded_at: Date;
}

const toStored = (streamId: string, r: EventRow): StoredEvent => ({
  streamId,
  version: r.version,
  position: Number(r.position),
  eventId: r.event_id,
  type: r.type,
  data: r.data,
  metadata: r.metadata,
  recordedAt: r.recorded_at,
});

const withTraceparent = (event: NewEvent, traceparent: string): NewEvent =>
  event.metadata.traceparent ? event : { ...event, metadata: { ...event.metadata, traceparent } };

export class PostgresEventStore implements EventStore {
  readonly #pool: Queryable;
  readonly #onAppended: (() => void) | undefined;
  readonly #newStreams: GroupCommit<PendingAppend, AppendResult | Error> | undefined;

  /**
   * A pool, or a client inside a transaction. Its search_path must lead to
   * the schema holding the event store tables. `onAppended` runs after each
   * append that wrote outbox rows has committed (e.g. to wake the relay).
   * `groupCommit` (a pool only): appends that start a stream, arriving while
   * one is in flight, go to Postgres together, up to this many in one statement.
   */
  constructor(pool: Queryable, options: { onAppended?: () => void; groupCommit?: number } = {}) {
    this.#pool = pool;
    this.#onAppended = options.onAppended;
    this.#newStreams =
      options.groupCommit && options.groupCommit > 1
        ? new GroupCommit({
            maxBatch: options.groupCommit,
            many: (items) => this.#appendNewStreams(items),
            one: (item) =>
              this.#appendOne(item.streamId, item.events, item.options).catch((error: unknown) =>
                error instanceof ConcurrencyConflict ? error : Promise.reject(error),
              ),
            conflicts: (a, b) =>
              a.streamId === b.streamId ||
              (a.options.idempotency !== undefined &&
                a.options.idempotency.scope === b.options.idempotency?.scope &&
                a.options.idempotency.key === b.options.idempotency?.key),
          })
        : undefined;
  }

  /**
   * A span per append; events and outbox rows without a `traceparent` get the
   * append's, so the relayed publish continues this trace and a replayed or
   * republished event can link back to it.
   */
  appendToStream(
    streamId: string,
    events: readonly NewEvent[],
    options: AppendOptions,
  ): Promise<AppendResult> {
    return withSpan(
      'event_store append',
      { attributes: { 'conveyor.stream_id': streamId, 'conveyor.event_count': events.length } },
      async (span) => {
        const traceparent = traceparentOf();
        const result = await this.#append(
          streamId,
          traceparent ? events.map((e) => withTraceparent(e, traceparent)) : events,
          traceparent
            ? {
                ...options,
                outbox: (options.outbox ?? []).map((e) => ({
                  ...e,
                  traceparent: e.traceparent ?? traceparent,
                })),
              }
            : options,
        );
        span.setAttribute('conveyor.append_result', result.kind);
        return result;
      },
    );
  }

  async #append(
    streamId: string,
    events: readonly NewEvent[],
    options: AppendOptions,
  ): Promise<AppendResult> {
    if (!this.#newStreams || options.expectedVersion !== 0 || events.length === 0) {
      return this.#appendOne(streamId, events, options);
    }
    const result = await this.#newStreams.submit({ streamId, events, options });
    if (result instanceof Error) throw result;
    return result;
  }

  /** Appends of new streams in one statement; each gets its own result (or its conflict). */
  async #appendNewStreams(items: readonly PendingAppend[]): Promise<(AppendResult | Error)[]> {
    const events = items.flatMap((item, i) => item.events.map((e, j) => ({ cmd: i + 1, version: j + 1, e })));
    const outbox = items.flatMap((item, i) => (item.options.outbox ?? []).map((o) => ({ cmd: i + 1, o })));
    const { rows } = await this.#pool.query<EventRow & { stream_id: string }>({
      name: 'conveyor_event_store_append_new_streams',
      text: appendNewStreamsSql,
      values: [
        items.map((item) => item.streamId),
        items.map((item) => item.options.idempotency?.scope ?? null),
        items.map((item) => item.options.idempotency?.key ?? null),
        events.map((x) => x.cmd),
        events.map((x) => x.version),
        events.map((x) => x.e.eventId),
        events.map((x) => x.e.type),
        events.map((x) => JSON.stringify(x.e.data)),
        events.map((x) => JSON.stringify(x.e.metadata)),
        outbox.map((x) => x.cmd),
        outbox.map((x) => x.o.id),
        outbox.map((x) => x.o.type),
        outbox.map((x) => JSON.stringify(toHeaders(x.o))),
        outbox.map((x) => Buffer.from(encodeData(x.o))),
        ...timerChangesValues(
          items.map((item) => ({
            timers: item.options.timers,
            traceparent: item.events[0]?.metadata.traceparent,
          })),
        ),
      ],
    });
    const byStream = new Map<string, EventRow[]>();
    for (const r of rows) byStream.set(r.stream_id!, [...(byStream.get(r.stream_id!) ?? []), r]);
    if (outbox.length > 0 && rows.length > 0) this.#onAppended?.();
    return Promise.all(
      items.map(async (item): Promise<AppendResult | Error> => {
        const written = byStream.get(item.streamId);
        if (written) {
          written.sort((a, b) => a.version - b.version);
          return { kind: 'appended', events: written.map((r) => toStored(item.streamId, r)) };
        }
        const key = item.options.idempotency;
        const holder = key ? await this.findIdempotencyClaim(key.scope, key.key) : undefined;
        return holder !== undefined
          ? { kind: 'duplicate', streamId: holder }
          : new ConcurrencyConflict(item.streamId, item.options.expectedVersion);
      }),
    );
  }

  async #appendOne(
    streamId: string,
    events: readonly NewEvent[],
    options: AppendOptions,
  ): Promise<AppendResult> {
    const outbox: readonly CloudEvent[] = options.outbox ?? [];
    let rows: EventRow[];
    try {
      // Named: parsed and planned once per connection, not on every append.
      ({ rows } = await this.#pool.query<EventRow>({
        name: 'conveyor_event_store_append',
        text: appendSql,
        values: [
          streamId,
          options.expectedVersion,
          events.map((e) => e.eventId),
          events.map((e) => e.type),
          events.map((e) => JSON.stringify(e.data)),
          events.map((e) => JSON.stringify(e.metadata)),
          options.idempotency?.scope ?? null,
          options.idempotency?.key ?? null,
          outbox.map((e) => e.id),
          outbox.map((e) => e.type),
          outbox.map((e) => JSON.stringify(toHeaders(e))),
          outbox.map((e) => Buffer.from(encodeData(e))),
          ...timerChangesValues([{ timers: options.timers, traceparent: events[0]?.metadata.traceparent }]),
        ],
      }));
    } catch (error) {
      if (isUniqueViolation(error, 'events_stream_version')) {
        throw new ConcurrencyConflict(streamId, options.expectedVersion);
      }
      throw error;
    }
    if (rows.length > 0 || events.length === 0) {
      if (rows.length > 0 && outbox.length > 0) this.#onAppended?.();
      return { kind: 'appended', events: rows.map((r) => toStored(streamId, r)) };
    }
    if (options.idempotency) {
      const holder = await this.findIdempotencyClaim(options.idempotency.scope, options.idempotency.key);
      if (holder !== undefined) return { kind: 'duplicate', streamId: holder };
    }
    throw new ConcurrencyConflict(streamId, options.expectedVersion);
  }

  async readStream(streamId: string, range: { fromVersion?: number; toVersion?: number } = {}) {
    const { rows } = await this.#pool.query<EventRow>(
      `select position, version, event_id, type, data, metadata, recorded_at from events
       where stream_id = $1 and version >= $2 and version <= $3 order by version`,
      [streamId, range.fromVersion ?? 1, range.toVersion ?? 2_147_483_647],
    );
    return rows.map((r) => toStored(streamId, r));
  }

  async readAll(options: { afterPosition: number; limit: number }) {
    const { rows } = await this.#pool.query<EventRow & { stream_id: string }>(
      `select stream_id, position, version, event_id, type, data, metadata, recorded_at from events
       where position > $1 order by position limit $2`,
      [options.afterPosition, options.limit],
    );
    return rows.map((r) => toStored(r.stream_id, r));
  }

  async readByStream(options: Parameters<EventStore['readByStream']>[0]) {
    // The row comparison walks events_stream_version from the last stream read.
    const { rows } = await this.#pool.query<EventRow & { stream_id: string }>({
      name: 'event-store-read-by-stream',
      text: `select stream_id, position, version, event_id, type, data, metadata, recorded_at from events
       where (stream_id, version) > ($1, $2) and stream_id like $3 and position <= $4
       order by stream_id, version limit $5`,
      values: [
        options.after?.streamId ?? '',
        options.after?.version ?? 0,
        `${options.prefix.replace(/[\\%_]/g, '\\$&')}%`,
        options.maxPosition,
        options.limit,
      ],
    });
    return rows.map((r) => toStored(r.stream_id, r));
  }

  async findIdempotencyClaim(scope: string, key: string) {
    const { rows } = await this.#pool.query<{ stream_id: string }>(
      'select stream_id from idempotency_claims where scope = $1 and key = $2',
      [scope, key],
    );
    return rows[0]?.stream_id;
  }

  async loadSnapshot(streamId: string): Promise<Snapshot | undefined> {
    const { rows } = await this.#pool.query<{ version: number; state: unknown }>(
      'select version, state from snapshots where stream_id = $1',
      [streamId],
    );
    return rows[0] && { streamId, version: rows[0].version, state: rows[0].state };
  }

  async saveSnapshot(snapshot: Snapshot) {
    await this.#pool.query(
      `insert into snapshots (stream_id, version, state) values ($1, $2, $3)
       on conflict (stream_id) do update set version = excluded.version, state = excluded.state, taken_at = now()
       where snapshots.version < excluded.version`,
      [snapshot.streamId, snapshot.version, JSON.stringify(snapshot.state)],
    );
  }

  async headPosition() {
    const { rows } = await this.#pool.query<{ p: string | null }>('select max(position) as p from events');
    return Number(rows[0]?.p ?? 0);
  }
}
