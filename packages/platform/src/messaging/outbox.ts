import { traceparentOf } from '../observability/telemetry.ts';
import type { Queryable } from '../postgres/pool.ts';
import { type CloudEvent, encodeData, toHeaders } from './cloud-event.ts';

/**
 * Header kept with a re-queued event: the trace context of the command that
 * first produced it. The relay's publish span links to it, while its parent
 * is the operation that re-queued the event (ADR 0013).
 */
export const originTraceparentHeader = 'conveyor-origin-traceparent';

/**
 * Writes events to the service's outbox table with the caller's client, so
 * they commit or roll back with the state change that caused them. One
 * statement for any number of events; the table's trigger wakes the relay.
 * Events without a `traceparent` get the active one, so the relay's publish
 * continues the trace of the operation that wrote them.
 */
export async function appendToOutbox(db: Queryable, events: readonly CloudEvent[]): Promise<void> {
  if (events.length === 0) return;
  const traceparent = traceparentOf();
  await db.query(
    insertOutboxRows,
    outboxColumns(events, (e) => toHeaders({ ...e, traceparent: e.traceparent ?? traceparent })),
  );
}

const insertOutboxRows = `insert into outbox (event_id, subject, headers, payload)
  select * from unnest($1::uuid[], $2::text[], $3::jsonb[], $4::bytea[])`;

/** The outbox's columns for `events`, one array each, with each event's headers as `headersOf` makes them. */
function outboxColumns(events: readonly CloudEvent[], headersOf: (e: CloudEvent) => Record<string, string>) {
  return [
    events.map((e) => e.id),
    events.map((e) => e.type),
    events.map((e) => JSON.stringify(headersOf(e))),
    events.map((e) => Buffer.from(encodeData(e))),
  ];
}

/** The newest position of the event log (0 when it is empty). */
export async function eventLogHead(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ head: string | null }>('select max(position) as head from event_log');
  return Number(rows[0]?.head ?? 0);
}

/** The first logged event at or after `position`, with when it was recorded. */
export async function eventLogFirst(
  db: Queryable,
  position: number,
): Promise<{ position: number; recordedAt: Date } | undefined> {
  const { rows } = await db.query<{ position: string; created_at: Date }>(
    'select position, created_at from event_log where position >= $1 order by position limit 1',
    [position],
  );
  return rows[0] && { position: Number(rows[0].position), recordedAt: rows[0].created_at };
}

/**
 * Queues the logged events at positions `from`..`to` for publishing again, in order, with their
 * original ids and headers (messagingTablesSql.eventLog). An event still waiting in the outbox is
 * not queued twice. Returns how many rows were added.
 */
export async function requeueFromEventLog(db: Queryable, from: number, to: number): Promise<number> {
  const result = await db.query(
    `insert into outbox (event_id, subject, headers, payload)
     select event_id, subject, headers, payload from event_log
      where position between $1 and $2 order by position
     on conflict (event_id) do nothing`,
    [from, to],
  );
  return result.rowCount ?? 0;
}

/**
 * Queues events for publishing again. An event whose row is still waiting in
 * the outbox is not queued twice. Returns how many rows were added. The
 * publish belongs to the trace of the caller (e.g. an admin's republish) and
 * links to the event's original trace.
 */
export async function requeueInOutbox(db: Queryable, events: readonly CloudEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const current = traceparentOf();
  const headersOf = (e: CloudEvent) => {
    const headers = toHeaders({ ...e, traceparent: current ?? e.traceparent });
    if (e.traceparent && e.traceparent !== headers.traceparent)
      headers[originTraceparentHeader] = e.traceparent;
    return headers;
  };
  const result = await db.query(
    `${insertOutboxRows} on conflict (event_id) do nothing`,
    outboxColumns(events, headersOf),
  );
  return result.rowCount ?? 0;
}
