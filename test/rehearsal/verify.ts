import type { ReceivedMail } from '@conveyor/stack';
import { waitUntil } from '@conveyor/stack';
import pg from 'pg';
import type { AcceptedOrder, OrderCommand } from './order-load.ts';

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
  /** Commands answered OK whose event is not in the store (`<order> <command>`): lost. */
  lostCommands: string[];
  /** Accepted orders whose read-model status is not what their answered commands left. */
  wrongStatus: string[];
  /** Stored events of accepted orders (any type) without their notification row or mail. */
  eventsNotMailed: number;
  /** A second event of one type in one order (two payments, two shipments): a duplicate effect. */
  duplicateEvents: number;
  /** Stored events no command explains (a refused command that took effect anyway). */
  unexplainedEvents: number;
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

/** Every order event is mailed to its customer. */
const mailedOrderEvents = ['OrderPlaced', 'OrderPaid', 'OrderShipped', 'OrderDelivered', 'OrderCancelled'];
const eventOf = {
  pay: 'OrderPaid',
  ship: 'OrderShipped',
  deliver: 'OrderDelivered',
  cancel: 'OrderCancelled',
};
const statusAfter = {
  place: 'placed',
  pay: 'paid',
  ship: 'shipped',
  deliver: 'delivered',
  cancel: 'cancelled',
};
const orderMailSubject =
  /^(Order \S+ (confirmed|shipped|delivered|cancelled)|Payment received for order \S+)$/;
const count = async (sql: pg.Client, text: string, values: unknown[] = []): Promise<number> =>
  (await sql.query<{ n: number }>(text, values)).rows[0]!.n;

/**
 * Stored order events and users without their notification row. The events of an erased user's
 * orders contact no one (no row is recorded after user.erased), so they are not counted.
 */
async function withoutNotification(sql: pg.Client): Promise<number> {
  const orphanEvents = await count(
    sql,
    `select count(*)::int as n from orders.events e
      where e.type = any($1)
        and not exists (select 1 from notifications.notifications n where n.event_id = e.event_id)
        and not exists (select 1 from orders.order_summaries s join notifications.recipients r
                          on r.user_id = s.user_id and r.erased_at is not null
                         where 'order-' || s.order_id::text = e.stream_id)`,
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
      // Cancelled is an end too: a deleted webhook's deliveries, an erased user's pending mail.
      `select count(*)::int as n from notifications.notifications where status not in ('sent', 'cancelled')`,
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
  /** Commands sent after PlaceOrder per accepted order, in order (absent: none). */
  commands: ReadonlyMap<string, readonly OrderCommand[]>;
  /** Every stored event of the accepted orders. */
  orderEvents: readonly { order_id: string; type: string; event_id: string }[];
  /** Read-model status per accepted order (absent: no row). */
  statuses: ReadonlyMap<string, string>;
  /** Email notification rows per stored order event id (any type). */
  eventRows: ReadonlyMap<string, number>;
  /** Every stored order event id (accepted or not), for mails no event explains. */
  allOrderEventIds: readonly string[];
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
  const commandChecks = checkCommands(h, messageId, mailsById);
  for (const id of commandChecks.lostOrders) lost.add(id);
  const knownOrderMails = new Set(h.allOrderEventIds.map(messageId));
  duplicateConfirmations += new Set(
    h.mails
      .filter(
        (m) =>
          orderMailSubject.test(m.subject) &&
          !/confirmed$/.test(m.subject) &&
          !knownOrderMails.has(m.messageId),
      )
      .map((m) => m.messageId),
  ).size;
  return {
    accepted: h.accepted.length,
    lostOrderIds: [...lost],
    lostCommands: commandChecks.lostCommands,
    wrongStatus: commandChecks.wrongStatus,
    eventsNotMailed: commandChecks.eventsNotMailed,
    duplicateEvents: commandChecks.duplicateEvents,
    unexplainedEvents: commandChecks.unexplainedEvents,
    missingFromEventStore: h.accepted.filter((o) => !inStore.has(o)).length,
    missingFromReadModel: h.behind.length,
    missingConfirmations,
    confirmationsNotMailed,
    duplicateConfirmations,
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
 * Every command after PlaceOrder against the store, the read model and the mails: an answered
 * command's event is stored once, no event is there that no command explains, the read model
 * shows the status the answered commands left (either one when the last answer was lost), and
 * every stored event has its notification row and its mail.
 */
function checkCommands(
  h: History,
  messageId: (eventId: string) => string,
  mailsById: ReadonlyMap<string, number>,
) {
  const eventsByOrder = new Map<string, { type: string; event_id: string }[]>();
  for (const e of h.orderEvents) eventsByOrder.set(e.order_id, [...(eventsByOrder.get(e.order_id) ?? []), e]);
  const lostCommands: string[] = [];
  const wrongStatus: string[] = [];
  const lostOrders = new Set<string>();
  let duplicateEvents = 0;
  let unexplainedEvents = 0;
  let eventsNotMailed = 0;
  for (const order of h.accepted) {
    const events = eventsByOrder.get(order) ?? [];
    const types = events.map((e) => e.type);
    const commands = h.commands.get(order) ?? [];
    for (const type of new Set(types)) duplicateEvents += types.filter((t) => t === type).length - 1;
    for (const c of commands) {
      if (c.outcome === 'ok' && !types.includes(eventOf[c.kind])) {
        lostCommands.push(`${order} ${c.kind}`);
        lostOrders.add(order);
      }
    }
    const explained = new Set(['OrderPlaced', ...commands.map((c) => eventOf[c.kind])]);
    unexplainedEvents += types.filter((t) => !explained.has(t)).length;
    // The status the answered commands left; with a lost last answer, that command's status too.
    const answered = commands.filter((c) => c.outcome === 'ok');
    const last = answered.at(-1);
    const allowed = new Set([statusAfter[last?.kind ?? 'place']]);
    const trailing = commands.at(-1);
    if (trailing?.outcome === 'unknown') allowed.add(statusAfter[trailing.kind]);
    const status = h.statuses.get(order);
    if (types.includes('OrderPlaced') && (status === undefined || !allowed.has(status))) {
      wrongStatus.push(`${order}: ${status ?? 'no row'}, expected ${[...allowed].join(' or ')}`);
      lostOrders.add(order);
    }
    for (const e of events) {
      if ((h.eventRows.get(e.event_id) ?? 0) === 0 || !mailsById.has(messageId(e.event_id))) {
        eventsNotMailed++;
        lostOrders.add(order);
      }
    }
  }
  return { lostCommands, wrongStatus, lostOrders, duplicateEvents, unexplainedEvents, eventsNotMailed };
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
    const ids = options.accepted.map((o) => o.orderId);
    const orderEvents = await sql.query<{ order_id: string; type: string; event_id: string }>(
      `select substr(stream_id, 7) as order_id, type, event_id::text from orders.events
        where stream_id = any($1) order by stream_id, version`,
      [ids.map((id) => `order-${id}`)],
    );
    const statuses = await sql.query<{ order_id: string; status: string }>(
      'select order_id::text, status from orders.order_summaries where order_id = any($1::uuid[])',
      [ids],
    );
    const eventRows = await sql.query<{ event_id: string; n: number }>(
      `select event_id::text, count(*)::int as n from notifications.notifications
        where channel = 'email' and event_id = any($1::uuid[]) group by event_id`,
      [orderEvents.rows.map((e) => e.event_id)],
    );
    const allOrderEvents = await sql.query<{ event_id: string }>('select event_id::text from orders.events');
    return checkHistory(
      {
        accepted: options.accepted.map((o) => o.orderId),
        placed: s.placed,
        behind: s.behind,
        confirmationRows: new Map(rows.rows.map((r) => [r.event_id, r.n])),
        allPlacedEventIds: allPlaced.rows.map((r) => r.event_id),
        commands: new Map(options.accepted.map((o) => [o.orderId, o.commands ?? []])),
        orderEvents: orderEvents.rows,
        statuses: new Map(statuses.rows.map((r) => [r.order_id, r.status])),
        eventRows: new Map(eventRows.rows.map((r) => [r.event_id, r.n])),
        allOrderEventIds: allOrderEvents.rows.map((r) => r.event_id),
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
