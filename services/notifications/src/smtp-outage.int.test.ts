import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CloudEvent } from '@conveyor/platform';
import { waitUntil } from '@conveyor/stack';
import { type NotificationsHarness, settled, startHarness } from './testing/notifications-harness.ts';

const outageMs = 30_000;

/**
 * The SMTP server refuses everything (421) for 30 s while events keep
 * arriving. The attempt budget is deliberately tiny (3): if deliveries held
 * behind the open breaker counted as attempts, every mail caught by the
 * outage would be dead-lettered. Events are recorded and acknowledged at
 * once; the scheduler claims nothing for the SMTP bulkhead while its breaker
 * is open, except one trial each time its wait is over.
 */
describe('SMTP down for 30 s under load (real Postgres, NATS, SMTP sink)', () => {
  let h: NotificationsHarness;

  before(async () => {
    h = await startHarness('notif_outage', {
      CONSUMER_BACKOFF_MS: '250,500,1000,2000',
      CONSUMER_MAX_DELIVER: '60',
      DELIVERY_MAX_ATTEMPTS: '3',
      BREAKER_THRESHOLD: '3',
      BREAKER_HALF_OPEN_MS: '3000',
    });
  });
  after(() => h?.stop());

  it('holds mails behind the open breaker, delivers each once after recovery and dead-letters none', async (t) => {
    const emails = Array.from({ length: 80 }, (_, i) => `outage-${i}@example.com`);
    // One after another: users admits 16 password calls at once (ADR 0017).
    const events: CloudEvent[] = [];
    for (const email of emails) events.push(await h.userCreated(email));
    const mails = () => h.smtp.messages().filter((m) => m.to[0]?.startsWith('outage-'));

    const breaker = () => h.metric('conveyor_circuit_breaker_state', { downstream: 'smtp' });
    /** When the breaker's state first satisfies `is`, waited for (not sampled). */
    const whenBreaker = (is: (state: number) => boolean, message: string) => {
      const at = waitUntil(async () => is(await breaker()), {
        timeoutMs: outageMs + 20_000,
        intervalMs: 20,
        message,
      }).then(() => Date.now());
      at.catch(() => {}); // awaited below; a failure is reported there, not as an unhandled rejection
      return at;
    };

    for (const event of events.slice(0, 20)) await h.publish(event);
    await waitUntil(() => mails().length === 20, { timeoutMs: 10_000, message: 'mails before the outage' });

    h.smtp.setAvailable(false);
    const down = Date.now();
    const openedAt = whenBreaker((state) => state !== 0, 'the breaker did not open during the outage');
    // 60 more events spread over the first 20 s of the outage: load pacing, not a wait.
    for (const event of events.slice(20)) {
      await h.publish(event);
      await sleep(330);
    }
    // The outage lasts its 30 s (the scenario's length, not a wait for anything to happen).
    await sleep(Math.max(0, down + outageMs - Date.now()));
    assert.equal(mails().length, 20, 'nothing got through the outage');
    assert.notEqual(await breaker(), 0, 'the breaker was closed at the end of the outage');
    h.smtp.setAvailable(true);
    const up = Date.now();
    const closedAt = whenBreaker((state) => state === 0, 'the breaker did not close after the recovery');

    await waitUntil(() => new Set(mails().map((m) => m.to[0])).size === emails.length, {
      timeoutMs: 20_000,
      message: 'not every mail arrived after the recovery',
    });
    const recoveredInMs = Date.now() - up;
    await waitUntil(() => settled(h), { timeoutMs: 10_000, message: 'deliveries did not settle' });

    const byRecipient = new Map<string, string[]>();
    for (const m of mails()) byRecipient.set(m.to[0]!, [...(byRecipient.get(m.to[0]!) ?? []), m.messageId]);
    for (const [to, ids] of byRecipient) assert.equal(ids.length, 1, `${to} got ${ids.length} mails`);

    const dead = await h.call(h.client.listDeadLetters, {
      filter: { subject: '', reasonContains: '' },
      pageSize: 0,
      pageToken: '',
    });
    assert.equal(dead.deadLetters.length, 0, dead.deadLetters.map((d) => d.reason).join('\n'));
    const { rows } = await h.sql.query(
      `select count(*)::int as n, count(*) filter (where status = 'sent')::int as sent,
         max(attempts)::int as max_attempts, max(failures)::int as max_failures,
         sum(attempts)::int as attempts
       from notifications where recipient like 'outage-%'`,
    );
    assert.deepEqual({ n: rows[0].n, sent: rows[0].sent }, { n: 80, sent: 80 });
    assert.ok(rows[0].max_failures < 3, `a notification spent ${rows[0].max_failures} of its 3 attempts`);

    const heldMs = (await closedAt) - (await openedAt);
    const held = await h.metric('conveyor_circuit_breaker_held_total', { downstream: 'smtp' });
    const retries = await h.metric('conveyor_events_consumed_total', {
      consumer: 'notifications',
      subject: 'user.created',
      outcome: 'retry',
    });
    const opened = await h.metric('conveyor_circuit_breaker_transitions_total', {
      downstream: 'smtp',
      state: 'open',
    });
    t.diagnostic(
      `breaker not closed for ${(heldMs / 1000).toFixed(1)} s of the ${outageMs / 1000} s outage; opened ${opened} times; ` +
        `${held} sends held back; ${retries} naks; all mails ${(recoveredInMs / 1000).toFixed(1)} s after recovery`,
    );
    t.diagnostic(
      `notifications: ${rows[0].attempts} sends tried for 80 mails; max ${rows[0].max_attempts} per mail, ` +
        `max ${rows[0].max_failures} counted against the budget of 3`,
    );
    assert.ok(heldMs >= outageMs - 5000, `the breaker held for only ${heldMs} ms`);
    assert.equal(retries, 0, 'an SMTP outage holds no event: each was recorded and acknowledged');
    // 80 successes, the failures that opened the breaker (3), one trial per opening, and at most
    // the SMTP pool's sends already started when it opened.
    assert.ok(
      rows[0].attempts <= 80 + 3 + opened + 4,
      `${rows[0].attempts} sends tried: the open breaker let sends through`,
    );
  });
});
