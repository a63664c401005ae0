import type { Queryable } from '../postgres/pool.ts';

/**
 * Records that `consumer` handled `eventId`. Call it inside the transaction
 * that applies the event's effect: it returns false when the event was
 * already handled, and the caller then skips the effect. Delivery is at least
 * once, so this row is what makes the effect happen once.
 */
export async function recordInInbox(db: Queryable, consumer: string, eventId: string): Promise<boolean> {
  // Named: parsed and planned once per connection, as every statement run per event is.
  const result = await db.query({
    name: 'conveyor-inbox-record',
    text: 'insert into inbox (consumer, event_id) values ($1, $2) on conflict do nothing',
    values: [consumer, eventId],
  });
  return result.rowCount === 1;
}

/**
 * recordInInbox for a batch, in one statement: returns the ids recorded now (the events not
 * handled before), so the caller applies the effects of those only.
 */
export async function recordManyInInbox(
  db: Queryable,
  consumer: string,
  eventIds: readonly string[],
): Promise<Set<string>> {
  if (eventIds.length === 0) return new Set();
  const { rows } = await db.query<{ event_id: string }>({
    name: 'conveyor-inbox-record-many',
    text: `insert into inbox (consumer, event_id) select $1, unnest($2::uuid[])
           on conflict do nothing returning event_id::text`,
    values: [consumer, eventIds],
  });
  return new Set(rows.map((r) => r.event_id));
}
