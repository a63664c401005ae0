import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { usersV1 } from '@conveyor/contracts';
import { callUnary, insecure } from '@conveyor/platform';
import { type System, startSystem, waitUntil } from '@conveyor/stack';
import { apiClient, callAs, type SignedIn, signInAdmin, signUp } from '@conveyor/stack/testing';
import type * as grpc from '@grpc/grpc-js';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';

const SCHEMAS = ['users', 'orders', 'notifications'];

/**
 * Right to be forgotten, end to end: after EraseUser no plaintext email or
 * name of the user is left in any table of any service schema, nor in any
 * message of the USERS, ORDERS and DEADLETTERS streams, while the order
 * history stays intact.
 */
describe('erasure across users, orders and notifications (processes)', () => {
  let system: System;
  const logs: string[] = [];
  let sql: pg.Pool;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let usersAddress: string;
  let admin: SignedIn;
  let orders: grpc.Client;

  before(async () => {
    system = await startSystem({
      name: 'e2e_erasure',
      services: ['users', 'orders', 'notifications'],
      env: { all: { DATABASE_POOL_SIZE: '3' }, notifications: { CONSUMER_BACKOFF_MS: '200,500,1000' } },
      // Every service's log lines, as written, to scan for plaintext too.
      output: (line) => logs.push(line),
      jsonOutput: true,
    });
    usersAddress = system.address('users');
    admin = await signInAdmin(usersAddress);
    orders = apiClient('orders', system.address('orders'));
    sql = new pg.Pool({ connectionString: system.databaseUrl, max: 2 });
    nc = await connect(system.natsOptions());
    jsm = await jetstreamManager(nc);
  });

  after(async () => {
    orders?.close();
    await nc?.close();
    await sql?.end();
    await system?.stop();
  });

  /** Every text, json(b), bytea or array column of every table in the service schemas, as text. */
  async function tablesContaining(needles: string[]): Promise<string[]> {
    const { rows: columns } = await sql.query<{
      schema: string;
      table: string;
      column: string;
      type: string;
    }>(
      `select c.table_schema as schema, c.table_name as table, c.column_name as column, c.data_type as type
       from information_schema.columns c
       join information_schema.tables t using (table_schema, table_name)
       where c.table_schema = any($1) and t.table_type = 'BASE TABLE'
         and (c.data_type in ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea', 'ARRAY', 'USER-DEFINED'))`,
      [SCHEMAS],
    );
    assert.ok(columns.length > 10, `scanned only ${columns.length} columns`);
    const hits: string[] = [];
    const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
    for (const { schema, table, column, type } of columns) {
      // bytea compared byte-wise (hex of the UTF-8 needle); everything else as text, case-insensitively.
      const match =
        type === 'bytea'
          ? `position(encode(convert_to($1, 'UTF8'), 'hex') in encode(${ident(column)}, 'hex')) > 0
             or position(encode(convert_to($2, 'UTF8'), 'hex') in encode(${ident(column)}, 'hex')) > 0`
          : `position(lower($1) in lower(${ident(column)}::text)) > 0
             or position(lower($2) in lower(${ident(column)}::text)) > 0`;
      const { rows } = await sql.query(
        `select count(*)::int as n from ${ident(schema)}.${ident(table)} where ${match}`,
        needles,
      );
      if (rows[0].n > 0) hits.push(`${schema}.${table}.${column} (${rows[0].n} rows)`);
    }
    return hits;
  }

  async function messagesContaining(needles: string[]): Promise<string[]> {
    const hits: string[] = [];
    for (const stream of ['USERS', 'ORDERS', 'DEADLETTERS']) {
      const info = await jsm.streams.info(stream).catch(() => undefined);
      if (!info || info.state.messages === 0) continue;
      assert.ok(info.state.messages < 10_000, `${stream} is too large to scan`);
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const msg = await jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
        if (!msg) continue;
        const headers = [...msg.header.keys()].map((k) => `${k}: ${msg.header.values(k).join(',')}`);
        const text =
          `${msg.subject}\n${headers.join('\n')}\n${new TextDecoder().decode(msg.data)}`.toLowerCase();
        if (needles.some((n) => text.includes(n.toLowerCase())))
          hits.push(`${stream} #${seq} ${msg.subject}`);
      }
    }
    return hits;
  }

  /** EraseUser as the user, then waits until notifications has dropped its copy (user.erased). */
  async function eraseAndWait(user: SignedIn): Promise<void> {
    const client = new usersV1.UserServiceClient(usersAddress, insecure());
    try {
      await callUnary(
        client,
        client.eraseUser,
        { id: user.userId },
        { deadlineMs: 10_000, metadata: user.metadata() },
      );
    } finally {
      client.close();
    }
    await waitUntil(
      async () =>
        (
          await sql.query(
            `select 1 from notifications.recipients where user_id = $1 and erased_at is not null`,
            [user.userId],
          )
        ).rowCount === 1,
      { timeoutMs: 30_000, message: 'notifications did not handle user.erased' },
    );
  }

  it('leaves no plaintext email or name anywhere, and keeps the order history', async () => {
    const marker = randomUUID().slice(0, 8);
    const email = `forget-me-${marker}@example.com`;
    const name = `Zelda Forgettable ${marker}`;
    const user = await signUp(usersAddress, { email, name });
    const placed = await callAs<{ order: { id: string } }>(user, orders, 'PlaceOrder', {
      items: [{ sku: 'MUG-001', quantity: 1 }],
      idempotency_key: randomUUID(),
    });
    const orderId = placed.order.id;
    const [welcome] = await system.smtp.waitFor((m) => m.to.includes(email) && /Welcome/.test(m.subject), {
      timeoutMs: 30_000,
    });
    assert.match(welcome!.text, new RegExp(name));
    // The order confirmation too: its text carries the name.
    await system.smtp.waitFor((m) => m.to.includes(email) && !/Welcome/.test(m.subject), {
      timeoutMs: 30_000,
    });
    const historyBefore = await callAs<{ entries: { event_id: string; data_json: string }[] }>(
      admin,
      orders,
      'GetOrderHistory',
      { order_id: orderId },
    );
    assert.ok(historyBefore.entries.length >= 1);

    // Control: the scan does find the plaintext before the erasure.
    const before = await tablesContaining([email, name]);
    console.log(`before erasure the plaintext is in: ${before.join(', ')}`);
    assert.ok(before.length > 0, 'the scan must be able to fail');
    // Streams never held the plaintext (user.created v2 is sealed); the scan itself finds the user's id.
    assert.deepEqual(await messagesContaining([email, name]), []);
    assert.ok((await messagesContaining([user.userId])).length >= 2, 'the stream scan must be able to fail');

    await eraseAndWait(user);
    await waitUntil(async () => (await sql.query('select 1 from users.outbox')).rowCount === 0, {
      timeoutMs: 10_000,
      message: 'users outbox not drained',
    });

    const needles = [email, name];
    assert.deepEqual(await tablesContaining(needles), []);
    assert.deepEqual(await messagesContaining(needles), []);
    // Its parts, too (a name split across columns, the local part of the address).
    assert.deepEqual(await tablesContaining([`forget-me-${marker}`, `Zelda Forgettable`]), []);

    const historyAfter = await callAs<{ entries: { event_id: string; data_json: string }[] }>(
      admin,
      orders,
      'GetOrderHistory',
      { order_id: orderId },
    );
    assert.deepEqual(
      historyAfter.entries.map((e) => [e.event_id, e.data_json]),
      historyBefore.entries.map((e) => [e.event_id, e.data_json]),
    );
  });

  it('leaves no address in stored errors, dead letters or logs when a refused recipient is erased', async () => {
    const marker = randomUUID().slice(0, 8);
    const email = `refused-${marker}@example.com`;
    system.smtp.refuseRecipient(email);
    const user = await signUp(usersAddress, { email, name: `Rita Refused ${marker}` });
    // The welcome mail is refused for good (550, the server naming the address in its reply).
    await waitUntil(
      async () =>
        (
          await sql.query(
            `select 1 from notifications.notifications where user_id = $1 and status = 'failed'`,
            [user.userId],
          )
        ).rowCount === 1,
      { timeoutMs: 30_000, message: 'the refused welcome mail did not fail' },
    );
    const { rows } = await sql.query(
      `select last_error from notifications.notifications where user_id = $1 and status = 'failed'`,
      [user.userId],
    );
    assert.match(rows[0].last_error, /550/, 'the reply is kept, without the address');
    assert.ok((await tablesContaining([email, email])).length > 0, 'the scan must be able to fail');

    await eraseAndWait(user);
    assert.deepEqual(await tablesContaining([email, `refused-${marker}`]), []);
    assert.deepEqual(await messagesContaining([email]), []);
    const logged = logs.filter((line) => line.toLowerCase().includes(`refused-${marker}`));
    assert.deepEqual(logged.slice(0, 3), [], `${logged.length} log lines name the address`);
  });
});
