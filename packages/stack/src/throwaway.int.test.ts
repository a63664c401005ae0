import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { describe, it } from 'node:test';
import pg from 'pg';
import { probeNats } from './nats-infra.ts';
import { freePort } from './net-utils.ts';
import { probePostgres } from './postgres-infra.ts';
import { sendRawMail } from './raw-smtp.ts';
import { testAdminUrl, testDatabase, testNats, testSmtpSink } from './throwaway.ts';

const noPostgres = !(await probePostgres(testAdminUrl()));

describe('throwaway infrastructure', () => {
  it('creates and drops parallel test databases', { skip: noPostgres && 'no PostgreSQL' }, async () => {
    const [a, b] = await Promise.all([testDatabase('kit'), testDatabase('kit')]);
    assert.notEqual(a.name, b.name);
    const client = new pg.Client({ connectionString: a.url });
    await client.connect();
    try {
      assert.equal((await client.query('select current_database() as db')).rows[0].db, a.name);
    } finally {
      await client.end();
    }
    await Promise.all([a.drop(), b.drop()]);
    assert.equal(await probePostgres(a.url, 1000), false);
  });

  it('runs a private nats-server and removes its store on stop', async () => {
    const nats = await testNats();
    assert.equal(await probeNats(nats.url), true);
    await nats.kill();
    await nats.restart();
    assert.equal(await probeNats(nats.url), true);
    await nats.stop();
    await assert.rejects(stat(nats.storeDir), { code: 'ENOENT' });
  });

  it('runs an smtp sink with a web UI', async () => {
    const sink = await testSmtpSink();
    try {
      assert.ok(sink.httpPort);
      const reply = await sendRawMail({
        port: sink.smtpPort,
        from: 'a@t',
        to: ['b@t'],
        data: 'Subject: hi\n\nbody',
      });
      assert.equal(reply.code, 250);
      assert.equal((await sink.waitFor((m) => m.subject === 'hi')).length, 1);
    } finally {
      await sink.close();
    }
  });

  it('finds free ports', async () => {
    const port = await freePort();
    assert.ok(port > 1024 && port < 65536);
  });
});
