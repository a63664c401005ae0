import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommand } from './program.ts';

const request = (argv: string[]) => parseCommand(argv).request as Record<string, unknown>;

describe('consumers arguments', () => {
  const ref = { service: 'notifications', stream: 'ORDERS', durable: 'notifications' };

  it('names a consumer by service, stream and durable', () => {
    assert.deepEqual(request(['consumers', 'list', '--service', 'orders']), {
      kind: 'consumers list',
      service: 'orders',
      json: false,
    });
    assert.deepEqual(
      request(['consumers', 'pause', 'notifications/ORDERS/notifications', '--reason', ' mail outage ']),
      { kind: 'consumers pause', ref, reason: 'mail outage', json: false },
    );
    assert.deepEqual(request(['consumers', 'resume', 'notifications/ORDERS/notifications', '--json']), {
      kind: 'consumers resume',
      ref,
      json: true,
    });
  });

  it('resets to exactly one of a sequence and a time (the start of the unit given)', () => {
    assert.deepEqual(
      request(['consumers', 'reset', 'notifications/ORDERS/notifications', '--to-sequence', '42', '--yes']),
      { kind: 'consumers reset', ref, to: { sequence: 42 }, yes: true, json: false },
    );
    const byTime = request([
      'consumers',
      'reset',
      'orders/ORDERS/orders-projections',
      '--to-time',
      '2026-12-01T10:15Z',
    ]);
    assert.deepEqual(byTime, {
      kind: 'consumers reset',
      ref: { service: 'orders', stream: 'ORDERS', durable: 'orders-projections' },
      to: { time: new Date('2026-12-01T10:15:00.000Z') },
      yes: false,
      json: false,
    });
    const reset = ['consumers', 'reset', 'orders/ORDERS/orders-projections'];
    assert.throws(() => parseCommand(reset), /exactly one of --to-sequence N and --to-time/);
    assert.throws(
      () => parseCommand([...reset, '--to-sequence', '1', '--to-time', '2026-12-01T10:15Z']),
      /exactly one of/,
    );
    assert.throws(() => parseCommand([...reset, '--to-sequence', '0']), /a stream sequence from 1/);
    assert.throws(() => parseCommand([...reset, '--to-sequence', '1e3']), /a stream sequence from 1/);
    assert.throws(() => parseCommand([...reset, '--to-time', 'yesterday']), /--to-time must be an ISO-8601/);
  });

  it('keeps options to their command and refuses malformed or huge names briefly', () => {
    assert.throws(
      () => parseCommand(['consumers', 'pause', 'orders/ORDERS/orders-projections', '--yes']),
      /consumers pause: unknown option '--yes'$/,
    );
    assert.throws(
      () => parseCommand(['consumers', 'list', '--reason', 'x']),
      /consumers list: unknown option '--reason'/,
    );
    assert.throws(() => parseCommand(['consumers', 'pause', 'orders']), /not a consumer such as/);
    assert.throws(
      () => parseCommand(['consumers', 'pause', 'users/USERS/x']),
      /one of orders, notifications/,
    );
    assert.throws(
      () => parseCommand(['consumers', 'pause', `orders/ORDERS/${'x'.repeat(10_000)}`]),
      (error: Error) => error.message.length < 300,
    );
    assert.throws(
      () =>
        parseCommand(['consumers', 'pause', 'orders/ORDERS/orders-projections', '--reason', 'x'.repeat(201)]),
      /at most 200 characters/,
    );
    assert.throws(() => parseCommand(['consumers', 'rewind']), /consumers: unknown command 'rewind'/);
    assert.equal(parseCommand(['consumers']).request.kind, 'help');
  });
});
