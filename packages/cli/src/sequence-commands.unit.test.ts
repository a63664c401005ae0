import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommand } from './program.ts';

const request = (argv: string[]) => parseCommand(argv).request as Record<string, unknown>;

describe('dead-letters arguments', () => {
  it('names a dead letter by service and id', () => {
    assert.deepEqual(request(['dead-letters', 'redrive', 'orders/12']), {
      kind: 'dead-letters redrive',
      ref: { service: 'orders', id: '12' },
      json: false,
    });
    assert.deepEqual(request(['dead-letters', 'list', '--service', 'notifications', '--json']), {
      kind: 'dead-letters list',
      service: 'notifications',
      json: true,
    });
  });

  it('keeps --yes for discard and passes it on', () => {
    assert.deepEqual(request(['dead-letters', 'discard', 'notifications/3', '--yes']), {
      kind: 'dead-letters discard',
      ref: { service: 'notifications', id: '3' },
      yes: true,
      json: false,
    });
    assert.throws(
      () => parseCommand(['dead-letters', 'redrive', 'orders/1', '--yes']),
      /dead-letters redrive: unknown option '--yes'$/,
    );
  });

  it('refuses ids without their service, unknown services and huge input, quoting at most 40 characters', () => {
    assert.throws(() => parseCommand(['dead-letters', 'show', '12']), /not an id such as orders\/12/);
    assert.throws(() => parseCommand(['dead-letters', 'show', 'users/12']), /one of orders, notifications/);
    assert.throws(() => parseCommand(['dead-letters', 'show', 'orders/0']), /not an id/);
    assert.throws(
      () => parseCommand(['dead-letters', 'list', '--service', 'x'.repeat(10_000)]),
      (error: Error) => error.message.length < 200,
    );
    assert.throws(
      () => parseCommand(['dead-letters', 'show']),
      /dead-letters show: missing required argument 'SERVICE\/ID'$/,
    );
    assert.throws(
      () => parseCommand(['dead-letters', 'show', 'orders/1', '--service', 'orders']),
      /dead-letters show: unknown option '--service'$/,
    );
  });
});
