import type { Queryable } from '../postgres/pool.ts';
import { type CloudEvent, encodeData, toHeaders } from './cloud-event.ts';

/**
 * Writes events to the service's outbox table with the caller's client, so
 * they commit or roll back with the state change that caused them. One
 * statement for any number of events; the table's trigger wakes the relay.
 */
export async function appendToOutbox(db: Queryable, events: readonly CloudEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.query(
    `insert into outbox (event_id, subject, headers, payload)
     select * from unnest($1::uuid[], $2::text[], $3::jsonb[], $4::bytea[])`,
    [
      events.map((e) => e.id),
      events.map((e) => e.type),
      events.map((e) => JSON.stringify(toHeaders(e))),
      events.map((e) => Buffer.from(encodeData(e))),
    ],
  );
}

/**
 * Queues events for publishing again. An event whose row is still waiting in
 * the outbox is not queued twice. Returns how many rows were added.
 */
export async function requeueInOutbox(db: Queryable, events: readonly CloudEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const result = await db.query(
    `insert into outbox (event_id, subject, headers, payload)
     select * from unnest($1::uuid[], $2::text[], $3::jsonb[], $4::bytea[])
     on conflict (event_id) do nothing`,
    [
      events.map((e) => e.id),
      events.map((e) => e.type),
      events.map((e) => JSON.stringify(toHeaders(e))),
      events.map((e) => Buffer.from(encodeData(e))),
    ],
  );
  return result.rowCount ?? 0;
}
