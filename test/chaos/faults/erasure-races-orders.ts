import { randomInt, randomUUID } from 'node:crypto';
import { waitUntil } from '@conveyor/stack';
import { type SignedIn, signUp } from '@conveyor/stack/testing';
import type pg from 'pg';
import type { ChaosSystem } from '../chaos-system.ts';
import type { Experiment } from '../experiments.ts';
import { apiClient, callAs, signInChaosAdmin, withDatabase } from './chaos-clients.ts';

const CUSTOMERS = 4;
const MAX_ORDERS = 30;
const LOOP_MS = 10_000;

interface Customer {
  who: SignedIn;
  orders: number;
  /** Orders PlaceOrder accepted after EraseUser had answered. */
  afterErasure: number;
  erasedBy: 'self' | 'admin';
}

/**
 * Erasure racing a customer's own orders: customers place and pay orders in a tight loop and are
 * erased (half by themselves, half by an admin) after a few, while their events are still on their
 * way. Afterwards no mail may reach an erased address after notifications recorded the erasure,
 * and notifications may keep no contact details of them (recipients, notification rows).
 */
export const erasureRacesOrders: Experiment = {
  name: 'erasure-races-orders',
  knownDefect:
    'notifications sends deliveries it claimed before an erasure cancelled them (DeliveryScheduler does ' +
    'not check its claim again before sending): mails reach an erased address and the log says cancelled',
  fault: `${CUSTOMERS} customers place and pay orders in a tight loop and are erased after 2-5 of them (half by themselves, half by an admin)`,
  async run(system, note) {
    const admin = await signInChaosAdmin(system);
    const usersAddress = system.services.users.grpcAddress;
    const customers = await Promise.all(
      Array.from(
        { length: CUSTOMERS },
        async (_, i): Promise<Customer> => ({
          who: await signUp(usersAddress, { email: `erase-${randomUUID()}@example.com` }),
          orders: 0,
          afterErasure: 0,
          erasedBy: i % 2 === 0 ? 'self' : 'admin',
        }),
      ),
    );
    await Promise.all(customers.map((c) => orderThenErase(system, c, c.erasedBy === 'self' ? c.who : admin)));
    const ids = customers.map((c) => c.who.userId);
    const problems: string[] = [];
    const details = [
      `orders placed per customer: ${customers.map((c) => c.orders).join(', ')}, of them after EraseUser had answered: ${customers.map((c) => c.afterErasure).join(', ')}`,
    ];
    await withDatabase(system, async (sql) => {
      await waitUntil(
        async () =>
          (
            await sql.query(
              'select 1 from notifications.recipients where user_id = any($1) and erased_at is not null',
              [ids],
            )
          ).rowCount === ids.length,
        { timeoutMs: 30_000, intervalMs: 100, message: 'notifications did not record every erasure' },
      ).catch((error: Error) => problems.push(error.message));
      problems.push(...(await personalDataLeft(sql, ids)));
      const late = await mailsAfterErasure(sql, system, customers);
      problems.push(...late.problems);
      details.push(...late.details, ...(await leftRows(sql, ids)));
    });
    note(details.join('; '));
    return { problems, details };
  },
};

/** Places and pays orders (30 at most, or until refused once erased); erases the customer after 2 to 5. */
async function orderThenErase(system: ChaosSystem, customer: Customer, eraser: SignedIn): Promise<void> {
  const orders = apiClient(system, 'orders');
  const users = apiClient(system, 'users');
  const eraseAfter = randomInt(2, 6);
  let erasure: Promise<unknown> | undefined;
  let erased = false;
  const until = Date.now() + LOOP_MS;
  try {
    for (let n = 0; n < MAX_ORDERS && Date.now() < until; n++) {
      if (n === eraseAfter) {
        erasure = callAs(eraser, users, 'EraseUser', { id: customer.who.userId }).then(() => {
          erased = true;
        });
        erasure.catch(() => {}); // a failure is reported where it is awaited, below
      }
      try {
        const { order } = await callAs<{ order: { id: string } }>(customer.who, orders, 'PlaceOrder', {
          user_id: customer.who.userId,
          items: [{ sku: 'MUG-001', quantity: 1 }],
          idempotency_key: randomUUID(),
        });
        customer.orders++;
        if (erased) customer.afterErasure++;
        await callAs(customer.who, orders, 'PayOrder', { order_id: order.id });
      } catch (error) {
        if (erasure) break; // erased: the customer is refused from now on
        throw error;
      }
    }
    await (erasure ?? callAs(eraser, users, 'EraseUser', { id: customer.who.userId }));
  } finally {
    orders.close();
    users.close();
  }
}

/** Contact details notifications still holds for erased users. */
async function personalDataLeft(sql: pg.Client, ids: readonly string[]): Promise<string[]> {
  const recipients = await sql.query(
    'select 1 from notifications.recipients where user_id = any($1) and (email is not null or name is not null)',
    [ids],
  );
  const rows = await sql.query(
    `select 1 from notifications.notifications where user_id = any($1) and channel = 'email'
        and (recipient <> '[erased]' or body_text <> '[erased]' or body_html <> '[erased]')`,
    [ids],
  );
  return [
    ...(recipients.rowCount
      ? [`${recipients.rowCount} recipient row(s) of erased users still hold contact details`]
      : []),
    ...(rows.rowCount
      ? [`${rows.rowCount} notification row(s) of erased users still hold their address or text`]
      : []),
  ];
}

/**
 * Mails to an erased address after notifications recorded the erasure (a problem: with the status
 * their notification row was left in, and how long after) or after users erased them (a detail).
 */
async function mailsAfterErasure(sql: pg.Client, system: ChaosSystem, customers: readonly Customer[]) {
  const { rows } = await sql.query<{ id: string; erased: Date; recorded: Date | null }>(
    `select u.id::text, u.erased_at as erased, r.erased_at as recorded from users.users u
       left join notifications.recipients r on r.user_id = u.id where u.id = any($1)`,
    [customers.map((c) => c.who.userId)],
  );
  const late: { eventId: string; ms: number }[] = [];
  let inGap = 0;
  let gapMs = 0;
  for (const row of rows) {
    const email = customers.find((c) => c.who.userId === row.id)!.who.email.toLowerCase();
    const mails = system.smtp.messages().filter((m) => m.to.some((to) => to.toLowerCase() === email));
    for (const m of mails) {
      const at = new Date(m.receivedAt).getTime();
      const eventId = /^<([^.]+)\./.exec(m.messageId)?.[1] ?? m.messageId;
      if (row.recorded && at > row.recorded.getTime())
        late.push({ eventId, ms: at - row.recorded.getTime() });
      else if (at > row.erased.getTime()) inGap++;
    }
    if (row.recorded) gapMs = Math.max(gapMs, row.recorded.getTime() - row.erased.getTime());
  }
  const details = [
    `erasure recorded by notifications at most ${gapMs} ms after users; ${inGap} mail(s) reached erased addresses in between`,
  ];
  if (late.length === 0) return { problems: [], details };
  const { rows: statuses } = await sql.query<{ event_id: string; status: string }>(
    `select event_id::text, status from notifications.notifications
      where channel = 'email' and event_id = any($1::uuid[])`,
    [late.map((l) => l.eventId)],
  );
  const statusOf = new Map(statuses.map((r) => [r.event_id, r.status]));
  // Sent: settled before the erasure committed, after its erased_at (the transaction's start).
  // Cancelled: the log says it was not sent, yet the mail went out after the erasure.
  const cancelled = late.filter((l) => statusOf.get(l.eventId) === 'cancelled');
  const ms = (list: typeof late) => Math.max(0, ...list.map((l) => l.ms));
  details.push(
    `${late.length - cancelled.length} mail(s) after erased_at whose row says sent (up to ${ms(late)} ms)`,
  );
  return {
    problems: cancelled.length
      ? [
          `${cancelled.length} mail(s) reached an erased address although the erasure cancelled their notification ` +
            `(received up to ${ms(cancelled)} ms after notifications recorded the erasure; their rows say cancelled)`,
        ]
      : [],
    details,
  };
}

/** What erasure leaves in the notification log: rows by type and status, and order events without a row. */
async function leftRows(sql: pg.Client, ids: readonly string[]): Promise<string[]> {
  const { rows } = await sql.query<{ event_type: string; channel: string; status: string; n: number }>(
    `select event_type, channel, status, count(*)::int as n from notifications.notifications
      where user_id = any($1) group by 1, 2, 3 order by 1, 2, 3`,
    [ids],
  );
  const orphans = await sql.query<{ type: string; n: number }>(
    `select e.type, count(*)::int as n from orders.events e
      where e.stream_id in (select stream_id from orders.events where type = 'OrderPlaced' and data ->> 'userId' = any($1))
        and not exists (select 1 from notifications.notifications n where n.event_id = e.event_id)
      group by 1 order by 1`,
    [ids],
  );
  return [
    `erased users' notification rows: ${rows.map((r) => `${r.event_type}/${r.channel}/${r.status} ${r.n}`).join(', ')}`,
    `their order events without a notification row: ${orphans.rows.map((r) => `${r.type} ${r.n}`).join(', ') || 'none'}`,
  ];
}
