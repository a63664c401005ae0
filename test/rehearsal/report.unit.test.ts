import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { longestStall } from './order-load.ts';
import { formatReport, type RehearsalReport, rehearsalFailures } from './report.ts';

describe('longestStall', () => {
  it('is the longest gap between successes, counting from the window start to its end', () => {
    assert.deepEqual(longestStall([100, 150, 900, 950], 0, 1000), { ms: 750, at: 150 });
    assert.deepEqual(longestStall([], 0, 500), { ms: 500, at: 0 });
    assert.deepEqual(longestStall([10, 20, 2000], 0, 1000), { ms: 980, at: 20 });
  });
});

describe('rehearsal report', () => {
  const verification = {
    accepted: 10,
    lostOrderIds: [],
    missingFromEventStore: 0,
    missingFromReadModel: 0,
    missingConfirmations: 0,
    confirmationsNotMailed: 0,
    duplicateConfirmations: 0,
    lostCommands: [],
    wrongStatus: [],
    eventsNotMailed: 0,
    duplicateEvents: 0,
    unexplainedEvents: 0,
    resentSameMessageId: 0,
    eventsWithoutNotification: 0,
    orderEventsStored: 20,
    notificationsSent: 30,
    mailsReceived: 30,
    converged: true,
    problems: [],
  };
  const report: RehearsalReport = {
    startedAt: '2026-01-01T00:00:00.000Z',
    settings: {
      phaseMs: 1000,
      workers: 2,
      natsNodes: 3,
      replicasPerService: 2,
      streamReplicas: { ORDERS: 3 },
      shutdownGraceMs: 10_000,
    },
    figures: { accepted: 10, lost: 0, duplicated: 0, longestStallMs: 120, longestStallAtMs: 500 },
    load: {
      usersCreated: 10,
      paid: 10,
      retries: {},
      gaveUp: 0,
      gaveUpByCode: {},
      slowestCommandMs: 90,
      durationMs: 2000,
    },
    phases: [
      { name: 'steady', fromMs: 0, toMs: 1000, accepted: 6, longestStallMs: 100 },
      { name: 'node killed', fromMs: 1000, toMs: 2000, accepted: 4, longestStallMs: 120 },
    ],
    sigterm: [{ replica: 'users-b', code: 0, ms: 80 }],
    startupCrashes: {},
    verification,
    timeline: [{ atMs: 0, event: 'start' }],
  };

  it('passes a clean run and prints the four figures', () => {
    assert.deepEqual(rehearsalFailures(report), []);
    const text = formatReport(report);
    for (const figure of [
      '| accepted orders | 10 |',
      '| lost | 0 |',
      '| duplicated | 0 |',
      '| longest stall',
    ]) {
      assert.ok(text.includes(figure), figure);
    }
    assert.match(text, /RESULT: PASSED\n$/);
  });

  it('fails on loss, duplicates, no convergence, a phase without orders and an unclean exit', () => {
    const bad: RehearsalReport = {
      ...report,
      figures: { ...report.figures, lost: 2, duplicated: 1 },
      phases: [
        ...report.phases,
        { name: 'replicas killed', fromMs: 2000, toMs: 3000, accepted: 0, longestStallMs: 1000 },
      ],
      sigterm: [{ replica: 'orders-b', code: 1, ms: 12_000 }],
      verification: { ...verification, converged: false, problems: ['timed out'] },
    };
    assert.deepEqual(rehearsalFailures(bad), [
      '2 accepted order(s) lost',
      '1 duplicate effect(s)',
      'did not converge: timed out',
      'no order accepted during phase "replicas killed"',
      'orders-b exited with 1 after SIGTERM',
      'orders-b took 12000 ms to stop',
    ]);
    assert.match(formatReport(bad), /RESULT: FAILED/);
  });
});
