import type { ReceivedMail } from '@conveyor/stack';
import { waitUntil } from '@conveyor/stack';
import pg from 'pg';
import type { AcceptedOrder } from './order-load.ts';

/** What the stores and the mail sink hold for the accepted orders, once the system has converged. */
export interface Verification {
  accepted: number;
  /** Accepted orders missing from the event store, the read model, or without their confirmation. */
  lostOrderIds: string[];
  missingFromEventStore: number;
  /** Accepted orders missing from order_summaries, or behind their stream there. */
  missingFromReadModel: number;
  /** order.created events (of accepted orders) without a confirmation notification row. */
  missingConfirmations: number;
  /** order.created events whose confirmation never reached the SMTP sink. */
  confirmationsNotMailed: number;
  /** order.created events with more than one confirmation (rows, or mails with a foreign Message-ID). */
  duplicateConfirmations: number;
  /** Rows for one (event, channel) beyond the first: must stay 0. */
  duplicateNotificationRows: number;
  /** Mails received again with a Message-ID already seen (an SMTP send cut by a crash; ADR 0004). */
  resentSameMessageId: number;
  /** Stored order.created/order.paid events and users without their notification row. */
  eventsWithoutNotification: number;
  orderEventsStored: number;
  notificationsSent: number;
  mailsReceived: number;
  converged: boolean;
  problems: string[];
}

const mailedOrderEvents = ['OrderPlaced', 'OrderPaid'];
const count = async (sql: pg.Client, text: string, values: unknown[] = []): Promise<number> =>
  (await sql.query<{ n: number }>(text, values)).rows[0]!.n;

/** Stored order.created/order.paid events and users without their notification row. */
async function withoutNotification(sql: pg.Client): Promise<number> {
  const orphanEvents = await count(
    sql,
    `select count(*)::int as n from orders.events e where e.type = any($1) and not exists
       (select 1 from notifications.notifications n where n.event_id = e.event_id)`,
    [mailedOrderEvents],
  );
  const orphanUsers = await count(
    sql,
    `select count(*)::int as n from users.users u where not exists
       (select 1 from notifications.notifications n where n.user_id = u.id and n.event_type = 'user.created')`,
  );
  return orphanEvents + orphanUsers;
}

async function snapshot(sql: pg.Client, accepted: readonly AcceptedOrder[]) {
  const ids = accepted.map((o) => o.orderId);
  const placed = await sql.query<{ order_id: string; event_id: string }>(
    `select substr(stream_id, 7) as order_id, event_id::text from orders.events
      where type = 'OrderPlaced' and stream_id = any($1)`,
    [ids.map((id) => `order-${id}`)],
  );
  const behind = await sql.query<{ id: string }>(
    `select a.id::text from unnest($1::uuid[]) as a(id)
       left join orders.order_summaries s on s.order_id = a.id
       left join (select stream_id, max(version) as v from orders.events group by stream_id) e
              on e.stream_id = 'order-' || a.id::text
      where s.order_id is null or s.version < e.v`,
    [ids],
  );
  return {
    placed: placed.rows,
    behind: behind.rows.map((r) => r.id),
    // Includes users signed up by load workers whose orders never came (their welcome still counts).
    withoutNotification: await withoutNotification(sql),
    unsent: await count(
      sql,
      `select count(*)::int as n from notifications.notifications where status <> 'sent'`,
    ),
    outbox: await count(
      sql,
      'select ((select count(*) from users.outbox) + (select count(*) from orders.outbox))::int as n',
    ),
  };
}

/** What a run left behind, as the checker reads it (collected by verifyRehearsal). */
export interface History {
  /** Order ids PlaceOrder answered OK. */
  accepted: readonly string[];
  /** OrderPlaced events stored for accepted orders. */
  placed: readonly { order_id: string; event_id: string }[];
  /** Accepted orders missing from the read model or behind their stream there. */
  behind: readonly string[];
  /** Email notification rows per OrderPlaced event id. */
  confirmationRows: ReadonlyMap<string, number>;
  /** Every stored OrderPlaced event id (accepted or not). */
  allPlacedEventIds: readonly string[];
  duplicateNotificationRows: number;
  eventsWithoutNotification: number;
  orderEventsStored: number;
  notificationsSent: number;
  /** What the SMTP sink received. */
  mails: readonly { messageId: string; subject: string }[];
}

/**
 * Compares the accepted orders with the event store, the read model, the notification log and the
 * mails (pure: verify.unit.test.ts feeds it histories with each violation).
 */
export function checkHistory(
  h: History,
  run: { mailDomain: string; converged: boolean; problems: string[] },
): Verification {
  const messageId = (eventId: string) => `<${eventId}.email@${run.mailDomain}>`;
  const mailsById = new Map<string, number>();
  for (const mail of h.mails) mailsById.set(mail.messageId, (mailsById.get(mail.messageId) ?? 0) + 1);
  const lost = new Set<string>(h.behind);
  const inStore = new Set(h.placed.map((e) => e.order_id));
  for (const order of h.accepted) if (!inStore.has(order)) lost.add(order);
  let missingConfirmations = 0;
  let confirmationsNotMailed = 0;
  let duplicateConfirmations = 0;
  for (const event of h.placed) {
    const n = h.confirmationRows.get(event.event_id) ?? 0;
    if (n === 0) missingConfirmations++;
    if (n > 1) duplicateConfirmations++;
    if (!mailsById.has(messageId(event.event_id))) confirmationsNotMailed++;
    if (n === 0 || !mailsById.has(messageId(event.event_id))) lost.add(event.order_id);
  }
  // A confirmation whose Message-ID belongs to no stored order.created event would be a second one.
  const expected = new Set(h.allPlacedEventIds.map(messageId));
  duplicateConfirmations += new Set(
    h.mails
      .filter((m) => /^Order \S+ confirmed$/.test(m.subject) && !expected.has(m.messageId))
      .map((m) => m.messageId),
  ).size;
  return {
    accepted: h.accepted.length,
    lostOrderIds: [...lost],
    missingFromEventStore: h.accepted.filter((o) => !inStore.has(o)).length,
    missingFromReadModel: h.behind.length,
    missingConfirmations,
    confirmationsNotMailed,
    duplicateConfirmations,
    duplicateNotificationRows: h.duplicateNotificationRows,
    resentSameMessageId: [...mailsById.values()].reduce((sum, n) => sum + n - 1, 0),
    eventsWithoutNotification: h.eventsWithoutNotification,
    orderEventsStored: h.orderEventsStored,
    notificationsSent: h.notificationsSent,
    mailsReceived: h.mails.length,
    converged: run.converged,
    problems: run.problems,
  };
}

/**
 * Waits (bounded) until the outboxes are empty, the read models caught up, every stored event
 * and user has its notification and every notification was sent and mailed, then compares the
 * accepted orders with the event store, the read model, the notification log and the sink's mails.
 */
export async function verifyRehearsal(options: {
  databaseUrl: string;
  accepted: readonly AcceptedOrder[];
  mails: () => ReceivedMail[];
  mailDomain: string;
  convergeTimeoutMs: number;
}): Promise<Verification> {
  const messageId = (eventId: string) => `<${eventId}.email@${options.mailDomain}>`;
  const sql = new pg.Client({ connectionString: options.databaseUrl });
  await sql.connect();
  const problems: string[] = [];
  try {
    let converged = true;
    try {
      await waitUntil(
        async () => {
          const s = await snapshot(sql, options.accepted);
          const mailed = new Set(options.mails().map((m) => m.messageId));
          return (
            s.outbox === 0 &&
            s.behind.length === 0 &&
            s.unsent === 0 &&
            s.withoutNotification === 0 &&
            s.placed.length === options.accepted.length &&
            s.placed.every((e) => mailed.has(messageId(e.event_id)))
          );
        },
        { timeoutMs: options.convergeTimeoutMs, intervalMs: 500, message: 'the system did not converge' },
      );
    } catch (error) {
      converged = false;
      problems.push((error as Error).message);
    }
    const s = await snapshot(sql, options.accepted);
    const rows = await sql.query<{ event_id: string; n: number }>(
      `select event_id::text, count(*)::int as n from notifications.notifications
        where channel = 'email' and event_id = any($1::uuid[]) group by event_id`,
      [s.placed.map((e) => e.event_id)],
    );
    const allPlaced = await sql.query<{ event_id: string }>(
      `select event_id::text from orders.events where type = 'OrderPlaced'`,
    );
    return checkHistory(
      {
        accepted: options.accepted.map((o) => o.orderId),
        placed: s.placed,
        behind: s.behind,
        confirmationRows: new Map(rows.rows.map((r) => [r.event_id, r.n])),
        allPlacedEventIds: allPlaced.rows.map((r) => r.event_id),
        duplicateNotificationRows: await count(
          sql,
          `select coalesce(sum(n - 1), 0)::int as n from
             (select count(*) as n from notifications.notifications group by event_id, channel) d`,
        ),
        eventsWithoutNotification: s.withoutNotification,
        orderEventsStored: await count(sql, 'select count(*)::int as n from orders.events'),
        notificationsSent: await count(
          sql,
          `select count(*)::int as n from notifications.notifications where status = 'sent'`,
        ),
        mails: options.mails().map((m) => ({ messageId: m.messageId, subject: m.subject })),
      },
      { mailDomain: options.mailDomain, converged, problems },
    );
  } finally {
    await sql.end();
  }
}
