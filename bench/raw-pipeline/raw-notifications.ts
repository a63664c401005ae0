/**
 * The raw pipeline's notification side, in batches as Conveyor's consumer takes them: one
 * statement reads the recipients, one records the inbox rows and pending notifications (nothing
 * for an event handled before), the mails go out over a plain SMTP connection pool with Message-IDs
 * derived from the event ids, and one statement settles them; then the batch is acknowledged. A
 * redelivery finds the inbox rows and sends what is still pending. node-pg, nats.js and net only. Started by bench/suites/raw-pipeline.ts.
 *
 * Settings (environment): DATABASE_URL, NATS_URL, POOL_SIZE, CONSUMER_CONCURRENCY, SMTP_PORT,
 * SMTP_POOL_SIZE.
 */
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { consume } from './consume.ts';
import { rawMailDomain, rawStream } from './schema.ts';
import { rawMailer } from './smtp-client.ts';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const pool = new pg.Pool({ connectionString: env('DATABASE_URL'), max: Number(env('POOL_SIZE')) });
const nc = await connect({ servers: env('NATS_URL') });
const mailer = rawMailer(Number(env('SMTP_PORT')), Number(env('SMTP_POOL_SIZE')));

// One statement per batch: the inbox rows, and a pending notification for each event not handled before.
const recordSql = `
  with inbox as (
    insert into raw_notifications.inbox (consumer, event_id) select 'raw-notifications', unnest($1::uuid[])
    on conflict do nothing returning event_id
  )
  insert into raw_notifications.notifications (id, event_id, event_type, user_id, channel, target, recipient,
    subject, body_text, body_html, created_at)
  select n.id, n.event_id, 'order.created', n.user_id, 'email', '', n.recipient, n.subject, n.body_text, n.body_html, now()
  from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[])
    as n(event_id, id, user_id, recipient, subject, body_text, body_html)
  join inbox using (event_id)
  returning id, event_id, recipient, subject, body_text, body_html`;

interface Order {
  orderId: string;
  userId: string;
  items: { sku: string; quantity: number; unitPrice: { amountMinor: number; currency: string } }[];
  total: { amountMinor: number; currency: string };
}

const euros = new Intl.NumberFormat('en', { style: 'currency', currency: 'EUR' });
const money = (m: { amountMinor: number }) => euros.format(m.amountMinor / 100);

function render(order: Order, name: string) {
  const lines = [
    `We received your order ${order.orderId}:`,
    ...order.items.map((i) => `${i.quantity} x ${i.sku} at ${money(i.unitPrice)}`),
    `Total: ${money(order.total)}.`,
  ];
  return {
    subject: `Order ${order.orderId.slice(-8)} confirmed`,
    text: [`Hello ${name},`, '', ...lines, '', '- Conveyor'].join('\n'),
    html: `<p>Hello ${name},</p>${lines.map((l) => `<p>${l}</p>`).join('')}<p>- Conveyor</p>`,
  };
}

function mime(eventId: string, to: string, m: { subject: string; text: string; html: string }): string {
  const boundary = `b-${eventId}`;
  return [
    'From: Conveyor <no-reply@raw.bench>',
    `To: ${to}`,
    `Subject: ${m.subject}`,
    `Message-ID: <${eventId}.email@${rawMailDomain}>`,
    `Date: ${new Date().toUTCString()}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    m.text.replace(/\n/g, '\r\n'),
    `--${boundary}`,
    'Content-Type: text/html; charset=utf-8',
    '',
    m.html,
    `--${boundary}--`,
  ].join('\r\n');
}

interface Recorded {
  id: string;
  event_id: string;
  recipient: string;
  subject: string;
  body_text: string;
  body_html: string;
}

/** Sends every mail of the batch over the pool, then settles them all in one statement. */
async function sendAll(recorded: Recorded[]): Promise<void> {
  const sent = await Promise.all(
    recorded.map((r) =>
      mailer
        .send({
          from: 'no-reply@raw.bench',
          to: r.recipient,
          data: mime(r.event_id, r.recipient, { subject: r.subject, text: r.body_text, html: r.body_html }),
        })
        .then(() => ({ id: r.id, at: new Date() })),
    ),
  );
  if (sent.length === 0) return;
  await pool.query({
    name: 'settle',
    text: `update raw_notifications.notifications n set status = 'sent', attempts = attempts + 1, sent_at = s.at
           from unnest($1::uuid[], $2::timestamptz[]) as s(id, at) where n.id = s.id`,
    values: [sent.map((s) => s.id), sent.map((s) => s.at)],
  });
}

const consumer = await consume(
  nc,
  rawStream.name,
  'raw-notifications',
  Number(env('CONSUMER_CONCURRENCY')),
  async (batch) => {
    const events = batch.map((m) => ({
      eventId: m.headers.get('ce-id') ?? '',
      order: JSON.parse(Buffer.from(m.data).toString()) as Order,
    }));
    const { rows: people } = await pool.query<{ user_id: string; email: string; name: string }>({
      name: 'recipients',
      text: 'select user_id::text, email, name from raw_notifications.recipients where user_id = any($1::uuid[])',
      values: [events.map((e) => e.order.userId)],
    });
    const byUser = new Map(people.map((p) => [p.user_id, p]));
    const rendered = events.map((e) => {
      const person = byUser.get(e.order.userId);
      if (!person) throw new Error(`no recipient ${e.order.userId}`);
      return { ...e, person, message: render(e.order, person.name) };
    });
    const { rows } = await pool.query<Recorded>({
      name: 'record',
      text: recordSql,
      values: [
        rendered.map((r) => r.eventId),
        rendered.map(() => uuidv7()),
        rendered.map((r) => r.order.userId),
        rendered.map((r) => r.person.email),
        rendered.map((r) => r.message.subject),
        rendered.map((r) => r.message.text),
        rendered.map((r) => r.message.html),
      ],
    });
    // Handled before (a redelivery): send whatever that handling left pending (a crash before the settle).
    const recordedNow = new Set(rows.map((r) => r.event_id));
    const again = rendered.filter((r) => !recordedNow.has(r.eventId)).map((r) => r.eventId);
    const { rows: pending } =
      again.length > 0
        ? await pool.query<Recorded>(
            `select id, event_id, recipient, subject, body_text, body_html from raw_notifications.notifications
           where event_id = any($1::uuid[]) and status = 'pending'`,
            [again],
          )
        : { rows: [] as Recorded[] };
    await sendAll([...rows, ...pending]);
  },
);

process.send?.({ type: 'ready' });

process.on('SIGTERM', async () => {
  await consumer.stop();
  mailer.close();
  await nc.drain();
  await pool.end();
  process.exit(0);
});
