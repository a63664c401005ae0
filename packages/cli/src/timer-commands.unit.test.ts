import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from './cli-error.ts';
import { parseCommand } from './program.ts';
import { dueIn } from './timer-commands.ts';

describe('timers list', () => {
  it('parses the service and the limit, and refuses anything else', () => {
    assert.deepEqual(parseCommand(['timers', 'list']).request, { kind: 'timers list', json: false });
    assert.deepEqual(
      parseCommand(['timers', 'list', '--service', 'orders', '--limit', '5', '--json']).request,
      {
        kind: 'timers list',
        service: 'orders',
        limit: 5,
        json: true,
      },
    );
    assert.equal(parseCommand(['timers']).request.kind, 'help');
    for (const [args, message] of [
      [['timers', 'list', '--service', 'users'], /--service must be one of orders, notifications/],
      [['timers', 'list', '--limit', '501'], /--limit must be a whole number from 1 to 500/],
      [['timers', 'list', 'now'], /^timers list: too many arguments for 'list'/],
      [['timers', 'fire'], /^timers: unknown command 'fire'/],
    ] as const) {
      assert.throws(
        () => parseCommand([...args]),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
      );
    }
  });

  it('says when a timer is due, in words', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const at = (ms: number) => new Date(now.getTime() + ms);
    assert.equal(dueIn(at(29 * 60_000 + 10_000), now), 'in 29 min');
    assert.equal(dueIn(at(12_000), now), 'in 12 s');
    assert.equal(dueIn(at(5 * 3_600_000), now), 'in 5 h');
    assert.equal(dueIn(at(3 * 86_400_000), now), 'in 3 d');
    assert.equal(dueIn(at(-120_000), now), '2 min late');
  });
});
