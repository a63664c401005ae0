/**
 * The raw pipeline's notification side: for each order.created, one statement records the inbox
 * row and the pending notification (nothing when the inbox row exists), the mail goes out over a
 * plain SMTP connection pool with a Message-ID derived from the event id, and one statement
 * settles it; then the message is acknowledged. A redelivery finds the inbox row and sends what
 * is still pending. node-pg, nats.js and net only. Started by bench/suites/raw-pipeline.ts.
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

const recordSql = `
  with inbox as (
    insert into raw_notifications.inbox (consumer, event_id) values ('raw-notifications', $1)
    on conflict do nothing returning 1
  )
  insert into raw_notifications.notifications (id, event_id, event_type, user_id, channel, target, recipient,
    subject, body_text, body_html, created_at)
  select $2, $1, 'order.created', $3, 'email', '', $4, $5, $6, $7, now() where exists (select 1 from inbox)
  returning id`;

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

async function send(
  id: string,
  eventId: string,
  to: string,
  m: { subject: string; text: string; html: string },
) {
  await mailer.send({ from: 'no-reply@raw.bench', to, data: mime(eventId, to, m) });
  await pool.query({
    name: 'settle',
    text: `update raw_notifications.notifications set status = 'sent', attempts = attempts + 1, sent_at = now() where id = $1`,
    values: [id],
  });
}

const consumer = await consume(
  nc,
  rawStream.name,
  'raw-notifications',
  Number(env('CONSUMER_CONCURRENCY')),
  async (data, headers) => {
    const eventId = headers.get('ce-id') ?? '';
    const order = JSON.parse(Buffer.from(data).toString()) as Order;
    const { rows: people } = await pool.query<{ email: string; name: string }>({
      name: 'recipient',
      text: 'select email, name from raw_notifications.recipients where user_id = $1',
      values: [order.userId],
    });
    const person = people[0];
    if (!person) throw new Error(`no recipient ${order.userId}`);
    const message = render(order, person.name);
    const { rows } = await pool.query<{ id: string }>({
      name: 'record',
      text: recordSql,
      values: [eventId, uuidv7(), order.userId, person.email, message.subject, message.text, message.html],
    });
    if (rows[0]) return send(rows[0].id, eventId, person.email, message);
    // Handled before: send whatever that handling left pending (a crash between record and settle).
    const { rows: pending } = await pool.query<{
      id: string;
      recipient: string;
      subject: string;
      body_text: string;
      body_html: string;
    }>(
      `select id, recipient, subject, body_text, body_html from raw_notifications.notifications where event_id = $1 and status = 'pending'`,
      [eventId],
    );
    for (const p of pending)
      await send(p.id, eventId, p.recipient, { subject: p.subject, text: p.body_text, html: p.body_html });
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
