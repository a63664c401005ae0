import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { usersV1 } from '@conveyor/contracts';
import { type CloudEvent, callUnary, insecure } from '@conveyor/platform';
import { type ServiceUnderTest, type System, startSystem, waitUntil } from '@conveyor/stack';
import { publishedEvent, signUp } from '@conveyor/stack/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { v7 as uuidv7 } from 'uuid';
import { type NotificationsHarness, settled, startHarness } from './testing/notifications-harness.ts';

/**
 * user.created v2 carries sealed contact details; notifications opens them
 * through users' RevealPersonalData. Users runs as a real process on its own
 * NATS (so its relay does not feed this notifications instance); the test
 * carries its events over, to control when notifications sees them.
 */
describe('notifications reads user.created v2 through users (real processes, Postgres, NATS)', () => {
  let h: NotificationsHarness;
  let system: System;
  let users: ServiceUnderTest;
  let usersAddress: string;

  before(async () => {
    // Its own database: the harness's token issuer runs users on the harness's,
    // and each outbox has one relay (ADR 0002) — this one must publish to
    // system.nats.
    system = await startSystem({
      name: 'sealedpd_users',
      services: ['users'],
      env: { users: { DATABASE_POOL_SIZE: '2' } },
      infra: { smtp: false },
    });
    users = system.service('users');
    usersAddress = users.address;
    h = await startHarness('sealedpd', {
      USERS_ADDR: usersAddress,
      USERS_SERVICE_SECRET: system.auth.serviceSecret,
      USERS_DEADLINE_MS: '1000',
      USERS_RETRY_DELAY_MS: '300',
      CONSUMER_MAX_DELIVER: '60',
    });
  });

  after(async () => {
    await h?.stop();
    await system?.stop();
  });

  /** The user.created event users published for `userId`, read back from its stream. */
  async function createdEvent(userId: string): Promise<CloudEvent> {
    const nc = await connect(system.natsOptions());
    try {
      return await publishedEvent(await jetstreamManager(nc), {
        stream: 'USERS',
        type: 'user.created',
        subject: userId,
      });
    } finally {
      await nc.close();
    }
  }

  /** Publishes a copy to notifications' NATS; `newId` makes it a distinct event (not deduplicated). */
  const deliver = (event: CloudEvent, newId?: string) => h.publish(newId ? { ...event, id: newId } : event);

  it('welcomes with the revealed name; waits (redelivery) while users is down and recovers by itself', async () => {
    const alice = await signUp(usersAddress, { email: 'alice.sealed@example.com', name: 'Alice Sealed' });
    const event = await createdEvent(alice.userId);
    assert.equal(event.dataschema, 'urn:conveyor:event:user.created:v2');
    assert.ok(!JSON.stringify(event.data).includes('Alice'));

    await users.process.kill();
    const retries = () =>
      h.metric('conveyor_events_consumed_total', {
        consumer: 'notifications',
        subject: 'user.created',
        outcome: 'retry',
      });
    const retriedBefore = await retries();
    await deliver(event);
    // Several RetryLater rounds (300 ms apart) against a dead users service, counted as they happen.
    await waitUntil(async () => (await retries()) >= retriedBefore + 3, {
      timeoutMs: 10_000,
      message: 'the event was not retried three times while users was down',
    });
    assert.equal(h.smtp.messages().filter((m) => m.to.includes('alice.sealed@example.com')).length, 0);
    const { rows: none } = await h.sql.query('select 1 from inbox');
    assert.equal(none.length, 0, 'nothing recorded while users is down');

    users = await system.restart(users);
    const [mail] = await h.smtp.waitFor((m) => m.to.includes('alice.sealed@example.com'), {
      timeoutMs: 20_000,
    });
    assert.match(mail!.text, /Hello Alice Sealed,/);
  });

  it('sends nothing for a user erased before the event is handled (the key is gone)', async () => {
    const bob = await signUp(usersAddress, { email: 'bob.sealed@example.com', name: 'Bob Sealed' });
    const event = await createdEvent(bob.userId);
    const client = new usersV1.UserServiceClient(usersAddress, insecure());
    try {
      await callUnary(
        client,
        client.eraseUser,
        { id: bob.userId },
        { deadlineMs: 5000, metadata: bob.metadata() },
      );
    } finally {
      client.close();
    }
    await deliver(event, uuidv7());
    // A later event is handled after it (one consumer, in order, when all goes well); then check.
    const sentinel = await signUp(usersAddress, { email: 'sentinel.sealed@example.com', name: 'Sentinel' });
    await deliver(await createdEvent(sentinel.userId));
    await h.smtp.waitFor((m) => m.to.includes('sentinel.sealed@example.com'), { timeoutMs: 20_000 });
    // Settled: both events acknowledged (a notification is recorded before its event is) and no
    // delivery scheduled, so a mail to bob, even one handled after the sentinel, would be here now.
    await waitUntil(() => settled(h), { timeoutMs: 10_000, message: 'notifications did not settle' });
    assert.equal(h.smtp.messages().filter((m) => m.to.includes('bob.sealed@example.com')).length, 0);
    const { rows } = await h.sql.query(
      `select count(*)::int as n from notifications where recipient = 'bob.sealed@example.com'`,
    );
    assert.equal(rows[0].n, 0);
  });
});
