import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ensureServiceRoles, type System, serviceRole, startSystem } from '@conveyor/stack';
import { testAdminUrl } from '@conveyor/stack/testing';
import pg from 'pg';

/** One statement as a service's own connection; the error's message, or 'allowed'. */
async function as(url: string, sql: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('begin');
    await client.query(sql);
    return 'allowed';
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.query('rollback').catch(() => {});
    await client.end();
  }
}

describe('a database role per service, with its own schema only (ADR 0026)', () => {
  let system: System;
  const urlOf = (name: 'users' | 'orders' | 'notifications') => {
    const url = system.service(name).env.DATABASE_URL;
    assert.ok(url, `${name} has a DATABASE_URL`);
    return url;
  };

  before(async () => {
    system = await startSystem({ name: 'e2e_roles', services: ['users', 'orders', 'notifications'] });
  });
  after(async () => {
    await system?.stop();
  });

  it('connects every service as its own role', () => {
    for (const name of ['users', 'orders', 'notifications'] as const) {
      assert.equal(new URL(urlOf(name)).username, serviceRole(name));
    }
  });

  it("keeps orders and notifications out of users' keys and password hashes", async () => {
    assert.match(
      await as(urlOf('orders'), 'select * from users.user_keys'),
      /permission denied for schema users/,
    );
    assert.match(
      await as(urlOf('notifications'), 'select password_hash from users.users'),
      /permission denied for schema users/,
    );
    assert.match(
      await as(urlOf('users'), 'select * from orders.order_summaries'),
      /permission denied for schema orders/,
    );
    assert.equal(await as(urlOf('users'), 'select count(*) from users.user_keys'), 'allowed');
  });

  it('lets orders append events but never change or delete one, nor drop the trigger that forbids it', async () => {
    const orders = urlOf('orders');
    assert.equal(await as(orders, 'select count(*) from orders.events'), 'allowed');
    assert.match(
      await as(orders, 'update orders.events set type = type'),
      /permission denied for table events/,
    );
    assert.match(await as(orders, 'delete from orders.events'), /permission denied for table events/);
    assert.match(
      await as(orders, 'drop trigger events_immutable on orders.events'),
      /must be owner of (table|relation) events/,
    );
    assert.match(
      await as(orders, "insert into orders.schema_migrations (name) values ('forged')"),
      /permission denied for table schema_migrations/,
    );
    // Its read model is its own: a rebuild replaces it.
    assert.equal(
      await as(orders, 'alter table orders.order_summaries rename to order_summaries_rebuilt'),
      'allowed',
    );
  });

  it('makes the roles safely when systems on one server start at once', async () => {
    const run = randomBytes(4).toString('hex');
    const names = [1, 2, 3].map((i) => `race_${run}_${i}`);
    const admin = new pg.Client({ connectionString: testAdminUrl() });
    await admin.connect();
    try {
      const results = await Promise.all(
        Array.from({ length: 4 }, () => ensureServiceRoles(testAdminUrl(), names)),
      );
      assert.deepEqual(results, [undefined, undefined, undefined, undefined]);
      const { rows } = await admin.query('select rolname from pg_roles where rolname = any($1) order by 1', [
        names.map(serviceRole),
      ]);
      assert.deepEqual(
        rows.map((r) => r.rolname),
        names.map(serviceRole),
      );
    } finally {
      for (const name of names) await admin.query(`drop role if exists ${serviceRole(name)}`);
      await admin.end();
    }
  });
});
