import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from './cli-error.ts';
import { parseInstant, parseItem } from './order-values.ts';
import { parseCommand } from './program.ts';

const request = (argv: string[]) => parseCommand(argv).request as Record<string, unknown>;

function usageError(argv: string[], message: RegExp): void {
  assert.throws(
    () => parseCommand(argv),
    (error: unknown) => error instanceof UsageError && error.exitCode === 64 && message.test(error.message),
  );
}

const id = '0b7e4c1a-5d7f-4f6e-9a53-2c1d8e9f0a11';

describe('orders place', () => {
  it('parses the user, every --item and the optional key', () => {
    assert.deepEqual(
      request(['orders', 'place', '--user', 'u1', '--item', 'MUG-001:2', '--item=sticker-pack:10']),
      {
        kind: 'orders place',
        user: 'u1',
        items: [
          { sku: 'MUG-001', quantity: 2 },
          { sku: 'sticker-pack', quantity: 10 },
        ],
        json: false,
      },
    );
    const keyed = request(['orders', 'place', '--user', 'u1', '--item', 'A:1', '--key', 'k-1', '--json']);
    assert.equal(keyed.key, 'k-1');
    assert.equal(keyed.json, true);
  });

  it('checks SKU:QTY', () => {
    assert.deepEqual(parseItem('MUG-001:1000'), { sku: 'MUG-001', quantity: 1000 });
    assert.deepEqual(parseItem(' MUG-001 :1'), { sku: 'MUG-001', quantity: 1 });
    for (const bad of ['MUG-001', ':2', '']) {
      usageError(
        ['orders', 'place', '--user', 'u1', '--item', bad],
        /--item must be SKU:QTY, e\.g\. MUG-001:2/,
      );
    }
    for (const bad of ['', '0', '1001', '-1', '1.5', 'two', '1e2']) {
      usageError(
        ['orders', 'place', '--user', 'u1', '--item', `MUG-001:${bad}`],
        /--item MUG-001: the quantity must be a whole number from 1 to 1000/,
      );
    }
  });

  it('wants each SKU once, each command its required options and a sane key', () => {
    usageError(
      ['orders', 'place', '--user', 'u1', '--item', 'MUG-001:1', '--item', 'mug-001:2'],
      /--item mug-001 is given twice/,
    );
    usageError(
      ['orders', 'place', '--user', 'u1'],
      /^orders place: required option '--item <SKU:QTY>' not specified$/,
    );
    const own = request(['orders', 'place', '--item', 'A:1']);
    assert.equal(own.user, undefined, 'no --user: the caller');
    usageError(['orders', 'place', '--user', 'u1', '--item', 'A:1', '--key', ''], /--key must be 1 to 128/);
    usageError(
      ['orders', 'place', '--user', 'u1', '--item', 'A:1', '--key', 'k'.repeat(129)],
      /--key must be 1 to 128/,
    );
    usageError(
      ['orders', 'place', '--user', 'u1', '--item', 'A:1', 'extra'],
      /^orders place: too many arguments for 'place'\. Expected 0 arguments but got 1: extra\.$/,
    );
  });
});

describe('orders commands on one order', () => {
  it('parses pay, ship, deliver, cancel, show and history', () => {
    assert.deepEqual(request(['orders', 'pay', id]), { kind: 'orders pay', id, json: false });
    assert.deepEqual(request(['orders', 'ship', id, '--carrier', 'DHL', '--tracking', '0034']), {
      kind: 'orders ship',
      id,
      carrier: 'DHL',
      tracking: '0034',
      json: false,
    });
    assert.deepEqual(request(['orders', 'deliver', id, '--json']), {
      kind: 'orders deliver',
      id,
      json: true,
    });
    assert.deepEqual(request(['orders', 'cancel', '--reason', 'changed my mind', id]), {
      kind: 'orders cancel',
      id,
      reason: 'changed my mind',
      json: false,
    });
    assert.deepEqual(request(['orders', 'show', id]), { kind: 'orders show', id, json: false });
    assert.deepEqual(request(['orders', 'history', id]), { kind: 'orders history', id, json: false });
  });

  it('wants the order id and the options each command needs', () => {
    usageError(['orders', 'pay'], /^orders pay: missing required argument 'ID'$/);
    usageError(
      ['orders', 'show', id, 'x'],
      /^orders show: too many arguments for 'show'\. Expected 1 argument but got 2: .+, x\.$/,
    );
    usageError(
      ['orders', 'ship', id, '--carrier', 'DHL'],
      /^orders ship: required option '--tracking <T>' not specified$/,
    );
    usageError(['orders', 'cancel', id], /^orders cancel: required option '--reason <TEXT>' not specified$/);
    usageError(['orders', 'refund', id], /^orders: unknown command 'refund'/);
  });
});

describe('orders list', () => {
  it('parses the user, a status name and the limit', () => {
    assert.deepEqual(request(['orders', 'list', '--user', 'u1']), {
      kind: 'orders list',
      user: 'u1',
      json: false,
    });
    for (const status of ['placed', 'paid', 'shipped', 'delivered', 'cancelled']) {
      const command = request(['orders', 'list', '--user', 'u1', '--status', status, '--limit', '5']);
      assert.deepEqual(command, { kind: 'orders list', user: 'u1', status, limit: 5, json: false });
    }
  });

  it('rejects unknown statuses, a missing user and bad limits', () => {
    for (const bad of ['PAID', 'canceled', 'unspecified', '']) {
      usageError(
        ['orders', 'list', '--user', 'u1', '--status', bad],
        /^orders list: option '--status <S>' argument '.*' is invalid\. Allowed choices are placed, paid, shipped, delivered, cancelled\.$/,
      );
    }
    const own = request(['orders', 'list', '--status', 'paid']);
    assert.equal(own.user, undefined, 'no --user: the caller');
    usageError(
      ['orders', 'list', '--user', 'u1', '--limit', '0'],
      /--limit must be a whole number from 1 to 500/,
    );
  });
});

describe('orders at', () => {
  it('takes exactly one of --version and --time', () => {
    assert.deepEqual(request(['orders', 'at', id, '--version', '2']), {
      kind: 'orders at',
      id,
      at: { version: 2 },
      json: false,
    });
    const at = request(['orders', 'at', id, '--time', '2026-01-02T03:04:05.250Z']);
    assert.deepEqual(at, {
      kind: 'orders at',
      id,
      at: { time: new Date('2026-01-02T03:04:05.250Z') },
      json: false,
    });
    usageError(['orders', 'at', id], /exactly one of --version N and --time ISO-8601/);
    usageError(
      ['orders', 'at', id, '--version', '1', '--time', '2026-01-02T03:04:05Z'],
      /exactly one of --version N and --time ISO-8601/,
    );
    usageError(['orders', 'at', '--version', '1'], /^orders at: missing required argument 'ID'$/);
  });

  it('wants a version from 1', () => {
    for (const bad of ['0', '-1', '1.5', 'v2', '2147483648']) {
      usageError(['orders', 'at', id, `--version=${bad}`], /--version must be a whole number from 1/);
    }
  });

  it('reads ISO-8601 times to the end of the last unit given', () => {
    assert.equal(parseInstant('2026-01-02T03:04:05Z').toISOString(), '2026-01-02T03:04:05.999Z');
    assert.equal(parseInstant('2026-01-02T03:04Z').toISOString(), '2026-01-02T03:04:59.999Z');
    assert.equal(parseInstant('2026-01-02T03:04:05.1Z').toISOString(), '2026-01-02T03:04:05.100Z');
    assert.equal(parseInstant('2026-01-02T05:04:05+02:00').toISOString(), '2026-01-02T03:04:05.999Z');
    // Without a zone: local time, as the history table prints it (space or T).
    const local = new Date(2026, 0, 2, 3, 4, 5, 999);
    assert.equal(parseInstant('2026-01-02 03:04:05').getTime(), local.getTime());
    assert.equal(parseInstant('2026-01-02T03:04:05').getTime(), local.getTime());
  });

  it('rejects what is not a date and time', () => {
    for (const bad of [
      '2026-01-02',
      'yesterday',
      '2026-02-30T00:00:00Z',
      '2026-01-02T25:00Z',
      '1767323045',
    ]) {
      usageError(['orders', 'at', id, '--time', bad], /--time must be an ISO-8601 date and time/);
    }
  });
});

describe('projections rebuild', () => {
  it('parses with and without --json', () => {
    assert.deepEqual(request(['projections', 'rebuild']), { kind: 'projections rebuild', json: false });
    assert.deepEqual(request(['projections', 'rebuild', '--json']), {
      kind: 'projections rebuild',
      json: true,
    });
    assert.equal(parseCommand(['projections']).request.kind, 'help');
    usageError(['projections', 'drop'], /^projections: unknown command 'drop'/);
    usageError(['projections', 'rebuild', 'now'], /^projections rebuild: too many arguments for 'rebuild'/);
    usageError(
      ['orders', 'at', id, '--version', '-1'],
      /^--version must be a whole number from 1 \(as placed\), not "-1"$/,
    );
  });
});

describe('orders republish arguments', () => {
  it('reads --from and an optional --to (0: the newest)', () => {
    assert.deepEqual(request(['orders', 'republish', '--from', '5']), {
      kind: 'orders republish',
      from: 5,
      to: 0,
      service: 'orders',
      json: false,
    });
    assert.deepEqual(request(['orders', 'republish', '--from', '5', '--to', '9', '--json']), {
      kind: 'orders republish',
      from: 5,
      to: 9,
      service: 'orders',
      json: true,
    });
  });

  it('refuses a missing or non-numeric position', () => {
    assert.throws(() => parseCommand(['orders', 'republish']), /required option '--from <N>' not specified/);
    assert.throws(
      () => parseCommand(['orders', 'republish', '--from', 'x']),
      /--from must be a whole number/,
    );
  });
});
