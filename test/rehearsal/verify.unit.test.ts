import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkHistory, type History } from './verify.ts';

// Issue 25: each invariant the rehearsal and the chaos runs check is fed a history that breaks it
// and must report the break; a clean history must report none.

const domain = 'chaos.example';
const mail = (eventId: string, subject = 'Order x confirmed') => ({
  messageId: `<${eventId}.email@${domain}>`,
  subject,
});

/** Two accepted orders, each stored, projected, with one confirmation row and one mail. */
function clean(): History {
  return {
    accepted: ['o1', 'o2'],
    placed: [
      { order_id: 'o1', event_id: 'e1' },
      { order_id: 'o2', event_id: 'e2' },
    ],
    behind: [],
    confirmationRows: new Map([
      ['e1', 1],
      ['e2', 1],
    ]),
    allPlacedEventIds: ['e1', 'e2'],
    duplicateNotificationRows: 0,
    eventsWithoutNotification: 0,
    orderEventsStored: 2,
    notificationsSent: 2,
    mails: [mail('e1'), mail('e2')],
  };
}
const check = (h: History) => checkHistory(h, { mailDomain: domain, converged: true, problems: [] });

describe('the rehearsal and chaos checker (verify.ts), on histories that break each invariant', () => {
  it('reports nothing for a clean history', () => {
    const v = check(clean());
    assert.deepEqual(v.lostOrderIds, []);
    assert.equal(v.duplicateConfirmations, 0);
    assert.equal(v.resentSameMessageId, 0);
  });

  it('an accepted order missing from the event store is lost', () => {
    const h = { ...clean(), placed: clean().placed.slice(1) };
    const v = check(h);
    assert.deepEqual(v.lostOrderIds, ['o1']);
    assert.equal(v.missingFromEventStore, 1);
  });

  it('an order missing from the read model, or behind there, is lost', () => {
    const v = check({ ...clean(), behind: ['o2'] });
    assert.deepEqual(v.lostOrderIds, ['o2']);
    assert.equal(v.missingFromReadModel, 1);
  });

  it('an order without its confirmation row, or whose mail never arrived, is lost', () => {
    const noRow = check({ ...clean(), confirmationRows: new Map([['e1', 1]]) });
    assert.deepEqual(noRow.lostOrderIds, ['o2']);
    assert.equal(noRow.missingConfirmations, 1);
    const noMail = check({ ...clean(), mails: [mail('e2')] });
    assert.deepEqual(noMail.lostOrderIds, ['o1']);
    assert.equal(noMail.confirmationsNotMailed, 1);
  });

  it('two confirmation rows for one event, or a confirmation mail no stored event explains, is a duplicate', () => {
    const twoRows = check({
      ...clean(),
      confirmationRows: new Map([
        ['e1', 2],
        ['e2', 1],
      ]),
    });
    assert.equal(twoRows.duplicateConfirmations, 1);
    const foreign = check({ ...clean(), mails: [...clean().mails, mail('e9')] });
    assert.equal(foreign.duplicateConfirmations, 1);
    assert.deepEqual(foreign.lostOrderIds, []);
  });

  it('the same mail received twice (a send cut by a crash) is counted as resent, not lost or duplicated', () => {
    const v = check({ ...clean(), mails: [...clean().mails, mail('e1')] });
    assert.equal(v.resentSameMessageId, 1);
    assert.equal(v.duplicateConfirmations, 0);
    assert.deepEqual(v.lostOrderIds, []);
  });
});
