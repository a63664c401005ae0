import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../config/config-error.ts';
import { ConnectFailure } from '../dependency-errors.ts';
import { TopologyMismatch } from '../messaging/topology.ts';
import { startupFailure } from './startup-failure.ts';

describe('startupFailure', () => {
  it('says what to act on, without a stack, for configuration, dependencies and topology', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    assert.equal(
      startupFailure('orders', refused),
      'orders: cannot start: connect ECONNREFUSED 127.0.0.1:5432',
    );
    assert.match(
      startupFailure('users', new ConfigError(['DATABASE_URL is not set'])),
      /^users: cannot start: invalid configuration:\n {2}- DATABASE_URL is not set$/,
    );
    assert.doesNotMatch(
      startupFailure('orders', new TopologyMismatch(['stream ORDERS is missing'])),
      /\n\s+at /,
    );
    assert.equal(
      startupFailure('users', new ConnectFailure('cannot connect to NATS at nats://x:1: refused')),
      'users: cannot start: cannot connect to NATS at nats://x:1: refused',
    );
  });

  it('keeps the stack of anything else: it looks like a bug', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'id')");
    assert.match(startupFailure('orders', bug), /^orders: TypeError: Cannot read properties[^\n]*\n\s+at /);
    assert.equal(startupFailure('orders', 'a string'), 'orders: cannot start: a string');
  });
});
