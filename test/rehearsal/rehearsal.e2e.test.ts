import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestDatabase, testDatabase } from '@conveyor/stack/testing';
import { runRehearsal } from './rehearsal.ts';
import { formatReport, rehearsalFailures } from './report.ts';

// The CI-sized rehearsal: the same script as `npm run rehearsal`, with 3-second phases.
describe('multi-replica rehearsal (smoke): 3 NATS nodes, R3 streams, 2 replicas per service', () => {
  let db: TestDatabase;
  before(async () => {
    db = await testDatabase('rehearsal');
  });
  after(async () => {
    await db?.drop();
  });

  it('keeps taking orders through a NATS node crash, replica kills and SIGTERMs, and loses or doubles none', async (t) => {
    const report = await runRehearsal({
      databaseUrl: db.url,
      phaseMs: 3000,
      workers: 3,
      pauseMs: 20,
      maxOrders: 5000,
      convergeTimeoutMs: 45_000,
      log: (line) => t.diagnostic(line),
    });
    for (const line of formatReport(report)
      .split('\n')
      .filter((l) => l.startsWith('|')))
      t.diagnostic(line);
    assert.deepEqual(rehearsalFailures(report), []);
    assert.deepEqual(report.settings.streamReplicas, { USERS: 3, ORDERS: 3, DEADLETTERS: 3 });
    assert.equal(report.figures.lost, 0);
    assert.equal(report.figures.duplicated, 0);
  });
});
