import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from '@conveyor/stack';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type pg from 'pg';
import { pino } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { type OutboxFixture, outboxFixture } from '../testing/outbox-fixture.ts';
import { newEvent } from './cloud-event.ts';
import { appendToOutbox } from './outbox.ts';
import type { OutboxRelay, OutboxRelayOptions } from './outbox-relay.ts';

/** What the relays warn about, as they log it: a test waits for a failed attempt rather than sleeping. */
const warnings: { msg: string; at: number }[] = [];
const logger = pino(
  { level: 'warn' },
  {
    write(line: string) {
      warnings.push({ msg: (JSON.parse(line) as { msg: string }).msg, at: Date.now() });
    },
  },
);
const schema = 'relaytest';
/**
 * pg 8 warns, once per process, when a client is handed a query while another is already waiting
 * for it (pg 9 drops that queue): each test file runs in its own process, so any such use here lands in this list.
 */
const concurrentQueryWarnings: Error[] = [];
process.on('warning', (warning) => {
  if (
    warning.name === 'DeprecationWarning' &&
    warning.message.includes('client is already executing a query')
  ) {
    concurrentQueryWarnings.push(warning);
  }
});

function userCreated() {
  const userId = uuidv7();
  return newEvent(
    'user.created',
    { userId, personalData: `v1.${'A'.repeat(16)}.${'B'.repeat(40)}`, createdAt: new Date().toISOString() },
    { source: 'test' },
  );
}

describe('outbox relay (real Postgres and NATS)', () => {
  let f: OutboxFixture;
  let pool: pg.Pool;
  let jsm: JetStreamManager;
  let relays: OutboxRelay[];
  let nats: OutboxFixture['nats'];

  before(async () => {
    f = await outboxFixture({ name: 'relay', schema, logger });
    ({ pool, jsm, relays, nats } = f);
  });

  after(() => f?.stop());

  const startRelay = (options: Partial<OutboxRelayOptions> = {}) =>
    f.startRelay({ standbyRetryMs: 200, ...options });

  const streamCount = async () => (await jsm.streams.info('USERS')).state.messages;
  const outboxCount = async () =>
    (await pool.query('select count(*)::int as n from outbox')).rows[0].n as number;
  const databaseNow = async () => (await pool.query('select clock_timestamp() as t')).rows[0].t as Date;
  /** True once a session that does not hold the relay lock has asked for it since `since`: a standby. */
  const standbyTriedSince = async (since: Date) => {
    const { rows } = await pool.query(
      `select count(*)::int as n from pg_stat_activity
       where datname = current_database() and pid <> pg_backend_pid() and query_start >= $1
         and query like 'select pg_try_advisory_lock%'
         and pid not in (select pid from pg_locks where locktype = 'advisory' and granted)`,
      [since],
    );
    return rows[0].n > 0;
  };

  it('is woken by the writer after commit, in process and from a standby replica, not by polling', async () => {
    const relay = startRelay({ idlePollMs: 60_000 });
    await waitUntil(() => relay.active, { timeoutMs: 5000, message: 'relay never became active' });
    const since = await databaseNow();
    const standby = startRelay({ idlePollMs: 60_000 });
    await waitUntil(() => standbyTriedSince(since), { timeoutMs: 5000, message: 'the standby never asked' });
    assert.equal(standby.active, false);
    let before = await streamCount();
    await appendToOutbox(pool, [userCreated()]);
    relay.signalCommitted();
    // With a one-minute idle poll, only the signal can deliver it this soon.
    await waitUntil(async () => (await streamCount()) === before + 1, {
      timeoutMs: 5000,
      message: 'event not published within 5 s of an in-process signal',
    });
    before = await streamCount();
    await appendToOutbox(pool, [userCreated()]);
    standby.signalCommitted(); // a NOTIFY the active relay hears
    await waitUntil(async () => (await streamCount()) === before + 1, {
      timeoutMs: 5000,
      message: 'event not published within 5 s of a signal from a standby replica',
    });
    await waitUntil(async () => (await outboxCount()) === 0, { timeoutMs: 5000, message: 'row not deleted' });
    await standby.stop();
    relays.splice(relays.indexOf(standby), 1);
  });

  it('a standby signalled by many writers at once queries its connection one statement at a time', async () => {
    // What a replica does after a healed connection finds the lock taken: every commit on it signals.
    const relay = relays.find((r) => r.active) ?? startRelay({ idlePollMs: 60_000 });
    await waitUntil(() => relay.active, { timeoutMs: 5000, message: 'relay never became active' });
    const since = await databaseNow();
    const standby = startRelay({ idlePollMs: 60_000 });
    try {
      await waitUntil(() => standbyTriedSince(since), {
        timeoutMs: 5000,
        message: 'the standby never asked',
      });
      const before = await streamCount();
      await appendToOutbox(pool, [userCreated()]);
      for (let i = 0; i < 50; i++) standby.signalCommitted();
      // With a one-minute idle poll, only the standby's NOTIFY can deliver it this soon.
      await waitUntil(async () => (await streamCount()) === before + 1, {
        timeoutMs: 5000,
        message: 'event not published within 5 s of a burst of signals from a standby replica',
      });
      assert.deepEqual(
        concurrentQueryWarnings.map((w) => w.message),
        [],
        'a query was sent on the relay connection while another was waiting for it',
      );
    } finally {
      await standby.stop();
      relays.splice(relays.indexOf(standby), 1);
    }
  });

  it('keeps exactly one relay active and fails over when it stops', async () => {
    const since = await databaseNow();
    const standby = startRelay();
    await waitUntil(() => standbyTriedSince(since), { timeoutMs: 5000, message: 'the standby never asked' });
    const active = relays.filter((r) => r.active);
    assert.equal(active.length, 1);
    assert.equal(standby.active, false);
    await active[0]!.stop();
    await waitUntil(() => standby.active, { timeoutMs: 5000, message: 'standby did not take over' });
    const before = await streamCount();
    await appendToOutbox(pool, [userCreated(), userCreated()]);
    standby.signalCommitted();
    await waitUntil(async () => (await streamCount()) === before + 2, {
      timeoutMs: 5000,
      message: 'not published',
    });
  });

  it('publishes a row whose transaction commits after a later one', async () => {
    const before = await streamCount();
    const slow = await pool.connect();
    try {
      await slow.query('begin');
      await appendToOutbox(slow, [userCreated()]); // takes the lower position, commits last
      await appendToOutbox(pool, [userCreated()]);
      await waitUntil(async () => (await streamCount()) === before + 1, {
        timeoutMs: 5000,
        message: 'fast row',
      });
      await slow.query('commit');
    } finally {
      slow.release();
    }
    await waitUntil(async () => (await streamCount()) === before + 2, {
      timeoutMs: 5000,
      message: 'the late-committing row was skipped',
    });
  });

  it('republishes after a crash between PubAck and delete; JetStream keeps one copy', async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
    let crashes = 0;
    const relay = startRelay({
      afterPublish: () => {
        if (crashes++ === 0) throw new Error('simulated crash after publish, before delete');
      },
    });
    await waitUntil(() => relay.active, { timeoutMs: 5000, message: 'relay never became active' });
    const before = await streamCount();
    await appendToOutbox(pool, [userCreated(), userCreated(), userCreated()]);
    await waitUntil(async () => (await outboxCount()) === 0, {
      timeoutMs: 10_000,
      message: 'outbox not drained',
    });
    assert.ok(crashes >= 2, 'the batch was published twice');
    assert.equal(await streamCount(), before + 3);
  });

  it('holds events while NATS is down and drains them, once each, after it returns', async () => {
    const before = await streamCount();
    await nats.kill();
    const events = Array.from({ length: 50 }, userCreated);
    const appendedAt = Date.now();
    for (let i = 0; i < events.length; i += 10) await appendToOutbox(pool, events.slice(i, i + 10));
    // The active relay read rows and failed to publish them: it tried, so what it kept it had to.
    await waitUntil(
      () => warnings.some((w) => w.msg === 'outbox relay failed; retrying' && w.at >= appendedAt),
      {
        timeoutMs: 20_000,
        message: 'the relay never tried to publish while NATS was down',
      },
    );
    assert.equal(await outboxCount(), 50, 'rows must stay in the outbox while NATS is down');
    await nats.restart();
    await waitUntil(async () => (await outboxCount()) === 0, {
      timeoutMs: 20_000,
      message: 'outbox not drained',
    });
    const fresh = await connect({ servers: nats.url });
    try {
      const info = await (await jetstreamManager(fresh)).streams.info('USERS');
      assert.equal(info.state.messages, before + 50);
    } finally {
      await fresh.close();
    }
  });
});
