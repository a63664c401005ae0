import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MailStore, type ReceivedMail } from './mail-store.ts';

const mail = (subject: string): Omit<ReceivedMail, 'id'> => ({
  messageId: `<${subject}@test>`,
  from: 'a@test',
  to: ['b@test'],
  subject,
  text: '',
  html: '',
  receivedAt: new Date(0).toISOString(),
  headers: [],
});

describe('MailStore', () => {
  it('keeps the newest messages up to its capacity with increasing ids', () => {
    const store = new MailStore(2);
    for (const subject of ['a', 'b', 'c']) store.add(mail(subject));
    assert.deepEqual(
      store.all().map((m) => [m.id, m.subject]),
      [
        [2, 'b'],
        [3, 'c'],
      ],
    );
    assert.equal(store.get(1), undefined);
    assert.equal(store.get(3)?.subject, 'c');
    store.clear();
    assert.deepEqual(store.all(), []);
    assert.equal(store.add(mail('d')).id, 4);
  });

  it('waitFor resolves immediately, later, or with count', async () => {
    const store = new MailStore();
    store.add(mail('x'));
    assert.equal((await store.waitFor((m) => m.subject === 'x')).length, 1);
    const two = store.waitFor((m) => m.subject === 'y', { count: 2, timeoutMs: 1000 });
    store.add(mail('y'));
    store.add(mail('y'));
    assert.equal((await two).length, 2);
  });

  it('waitFor explains a timeout and can be failed', async () => {
    const store = new MailStore();
    store.add(mail('other'));
    await assert.rejects(
      store.waitFor((m) => m.subject === 'z', { timeoutMs: 20 }),
      (error: Error) => {
        assert.match(
          error.message,
          /timed out after 20 ms waiting for 1 matching message\(s\); 0 of 1 received/,
        );
        assert.match(error.message, /"other" to b@test/);
        return true;
      },
    );
    const pending = store.waitFor(() => false, { timeoutMs: 10_000 });
    store.failWaiters(new Error('closed'));
    await assert.rejects(pending, /closed/);
  });
});
