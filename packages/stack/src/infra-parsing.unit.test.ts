import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseInfoJetStream } from './nats-infra.ts';
import { databaseUrl, redact } from './postgres-infra.ts';
import { testDatabaseName } from './throwaway.ts';

describe('parsing helpers', () => {
  it('detects JetStream in a NATS INFO line', () => {
    assert.equal(parseInfoJetStream('INFO {"server_id":"x","jetstream":true}'), true);
    assert.equal(parseInfoJetStream('INFO {"server_id":"x"}'), false);
    assert.equal(parseInfoJetStream('INFO {broken'), false);
    assert.equal(parseInfoJetStream('-ERR nope'), false);
  });

  it('builds database URLs and redacts passwords', () => {
    assert.equal(
      databaseUrl('postgres://u:p@127.0.0.1:5432/postgres?sslmode=disable', 't_a'),
      'postgres://u:p@127.0.0.1:5432/t_a?sslmode=disable',
    );
    assert.equal(redact('postgres://u:secret@127.0.0.1:5432/db'), 'postgres://u:***@127.0.0.1:5432/db');
    assert.equal(redact('postgres://u@127.0.0.1/db'), 'postgres://u@127.0.0.1/db');
  });

  it('makes unique, valid test database names', () => {
    const name = testDatabaseName('Orders-Service');
    assert.match(name, /^t_orders_service_[0-9a-f]{12}$/);
    assert.notEqual(testDatabaseName('x'), testDatabaseName('x'));
    assert.ok(testDatabaseName('y'.repeat(100)).length <= 63);
  });
});
