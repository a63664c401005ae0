import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from '@conveyor/stack';
import type { JetStreamManager } from '@nats-io/jetstream';
import type pg from 'pg';
import { pino } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { type OutboxFixture, outboxFixture } from '../testing/outbox-fixture.ts';
import { newEvent } from './cloud-event.ts';
import { appendToOutbox } from './outbox.ts';
import { streamConfigs } from './topology.ts';

const logger = pino({ level: 'silent' });
const schema = 'limitstest';
const limit = 32 * 1024;

// Issue 23: a stream at its limit must refuse new messages (the outbox keeps them, the relay
// backs off) rather than discard its oldest ones, which a consumer that fell behind would never see.
describe('a full stream refuses rather than forgets (real Postgres and NATS)', () => {
  let f: OutboxFixture;
  let pool: pg.Pool;
  let jsm: JetStreamManager;

  before(async () => {
    f = await outboxFixture({ name: 'limits', schema, logger, streams: { maxBytes: limit } });
    ({ pool, jsm } = f);
  });

  after(() => f?.stop());

  it('keeps every event: the stream refuses past its limit, the outbox holds the rest until there is room', async () => {
    const events = Array.from({ length: 200 }, () => {
      const userId = uuidv7();
      return newEvent(
        'user.created',
        {
          userId,
          personalData: `v1.${'A'.repeat(16)}.${'B'.repeat(200)}`,
          createdAt: new Date().toISOString(),
        },
        { source: 'test', subject: userId },
      );
    });
    await appendToOutbox(pool, events);
    f.startRelay({ standbyRetryMs: 100, maxBackoffMs: 300 });
    const outbox = async () =>
      (await pool.query('select count(*)::int as n from outbox')).rows[0].n as number;
    const users = async () => (await jsm.streams.info('USERS')).state;

    // Full: some events stored, the rest still in the outbox, and nothing the stream took is gone.
    await waitUntil(async () => (await users()).bytes > limit * 0.8 && (await outbox()) > 0, {
      timeoutMs: 10_000,
      message: 'the stream did not fill up',
    });
    const full = await users();
    assert.equal(full.first_seq, 1, 'no stored event was discarded to make room');
    assert.ok(full.messages < events.length, `only part fits (${full.messages})`);
    assert.ok(
      full.messages + (await outbox()) >= events.length,
      'every event is stored or still in the outbox',
    );

    // Room again (an operator raises the limit): the relay publishes the rest by itself.
    const config = streamConfigs({}).find((c) => c.name === 'USERS')!;
    await jsm.streams.update('USERS', { ...config, max_bytes: 16 * 1024 * 1024 });
    await waitUntil(async () => (await outbox()) === 0, {
      timeoutMs: 15_000,
      message: 'the outbox did not drain',
    });
    const after = await users();
    assert.equal(after.first_seq, 1);
    assert.equal(after.messages, events.length, 'each event once (Nats-Msg-Id dedupes a retried batch)');
    const ids = new Set<string>();
    for (let seq = 1; seq <= after.last_seq; seq++) {
      ids.add((await jsm.streams.getMessage('USERS', { seq }))!.header.get('Nats-Msg-Id'));
    }
    assert.deepEqual(ids, new Set(events.map((e) => e.id)));
  });
});
