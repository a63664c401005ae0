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

/**
 * Two accepted orders, each stored, projected, with one confirmation row and one mail; o1 was
 * paid and shipped (answered OK), o2 cancelled; every event has its row and its mail.
 */
function clean(): History {
  const events = [
    { order_id: 'o1', type: 'OrderPlaced', event_id: 'e1' },
    { order_id: 'o1', type: 'OrderPaid', event_id: 'p1' },
    { order_id: 'o1', type: 'OrderShipped', event_id: 's1' },
    { order_id: 'o2', type: 'OrderPlaced', event_id: 'e2' },
    { order_id: 'o2', type: 'OrderCancelled', event_id: 'c2' },
  ];
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
    commands: new Map([
      [
        'o1',
        [
          { kind: 'pay', outcome: 'ok' },
          { kind: 'ship', outcome: 'ok' },
        ],
      ],
      ['o2', [{ kind: 'cancel', outcome: 'ok' }]],
    ]),
    orderEvents: events,
    statuses: new Map([
      ['o1', 'shipped'],
      ['o2', 'cancelled'],
    ]),
    eventRows: new Map(events.map((e) => [e.event_id, 1])),
    allOrderEventIds: events.map((e) => e.event_id),
    eventsWithoutNotification: 0,
    orderEventsStored: 5,
    notificationsSent: 5,
    mails: [
      mail('e1'),
      mail('p1', 'Payment received for order x'),
      mail('s1', 'Order x shipped'),
      mail('e2'),
      mail('c2', 'Order x cancelled'),
    ],
  };
}
const check = (h: History) => checkHistory(h, { mailDomain: domain, converged: true, problems: [] });

describe('the rehearsal and chaos checker (verify.ts), on histories that break each invariant', () => {
  it('reports nothing for a clean history', () => {
    const v = check(clean());
    assert.deepEqual(v.lostOrderIds, []);
    assert.equal(v.duplicateConfirmations, 0);
    assert.equal(v.resentSameMessageId, 0);
    assert.deepEqual(v.lostCommands, []);
    assert.deepEqual(v.wrongStatus, []);
    assert.equal(v.eventsNotMailed + v.duplicateEvents + v.unexplainedEvents, 0);
  });

  it('a command answered OK whose event is not stored is lost', () => {
    const h = clean();
    const v = check({ ...h, orderEvents: h.orderEvents.filter((e) => e.type !== 'OrderShipped') });
    assert.deepEqual(v.lostCommands, ['o1 ship']);
    assert.ok(v.lostOrderIds.includes('o1'));
  });

  it('a read model that does not show what the answered commands left is wrong, and the order lost', () => {
    const v = check({ ...clean(), statuses: new Map([...clean().statuses, ['o1', 'paid']]) });
    assert.deepEqual(v.wrongStatus, ['o1: paid, expected shipped']);
    assert.ok(v.lostOrderIds.includes('o1'));
    const noRow = check({ ...clean(), statuses: new Map([['o1', 'shipped']]) });
    assert.deepEqual(noRow.wrongStatus, ['o2: no row, expected cancelled']);
  });

  it('after a lost answer either state is right, and nothing else', () => {
    const commands = new Map([
      ...clean().commands,
      [
        'o1',
        [
          { kind: 'pay', outcome: 'ok' },
          { kind: 'ship', outcome: 'unknown' },
        ] as const,
      ],
    ]);
    const shipped = check({ ...clean(), commands });
    assert.deepEqual(shipped.wrongStatus, []);
    assert.equal(shipped.unexplainedEvents, 0);
    const h = clean();
    const notShipped = check({
      ...h,
      commands,
      orderEvents: h.orderEvents.filter((e) => e.type !== 'OrderShipped'),
      statuses: new Map([...h.statuses, ['o1', 'paid']]),
    });
    assert.deepEqual(notShipped.wrongStatus, []);
    assert.deepEqual(notShipped.lostCommands, []);
    const delivered = check({ ...h, commands, statuses: new Map([...h.statuses, ['o1', 'delivered']]) });
    assert.deepEqual(delivered.wrongStatus, ['o1: delivered, expected paid or shipped']);
  });

  it('a second event of one type in one order, or an event no command explains, is a duplicate effect', () => {
    const h = clean();
    const twice = check({
      ...h,
      orderEvents: [...h.orderEvents, { order_id: 'o1', type: 'OrderPaid', event_id: 'p1b' }],
      eventRows: new Map([...h.eventRows, ['p1b', 1]]),
      mails: [...h.mails, mail('p1b', 'Payment received for order x')],
      allOrderEventIds: [...h.allOrderEventIds, 'p1b'],
    });
    assert.equal(twice.duplicateEvents, 1);
    const phantom = check({
      ...h,
      orderEvents: [...h.orderEvents, { order_id: 'o2', type: 'OrderShipped', event_id: 's2' }],
      eventRows: new Map([...h.eventRows, ['s2', 1]]),
      mails: [...h.mails, mail('s2', 'Order x shipped')],
      allOrderEventIds: [...h.allOrderEventIds, 's2'],
    });
    assert.equal(phantom.unexplainedEvents, 1);
  });

  it('any stored event of an accepted order without its row or its mail loses the order', () => {
    const h = clean();
    const noRow = check({ ...h, eventRows: new Map([...h.eventRows].filter(([id]) => id !== 'c2')) });
    assert.equal(noRow.eventsNotMailed, 1);
    assert.deepEqual(noRow.lostOrderIds, ['o2']);
    const noMail = check({ ...h, mails: h.mails.filter((m) => !m.messageId.startsWith('<s1.')) });
    assert.equal(noMail.eventsNotMailed, 1);
    assert.deepEqual(noMail.lostOrderIds, ['o1']);
  });

  it('an order mail whose Message-ID names no stored event is a duplicate', () => {
    const v = check({ ...clean(), mails: [...clean().mails, mail('x9', 'Order x shipped')] });
    assert.equal(v.duplicateConfirmations, 1);
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
    const noMail = check({ ...clean(), mails: clean().mails.filter((m) => !m.messageId.startsWith('<e1.')) });
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
