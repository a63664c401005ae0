import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommand } from './args.ts';
import { UsageError } from './cli-error.ts';
import { parseInstant, parseItem } from './order-values.ts';

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
      parseCommand(['orders', 'place', '--user', 'u1', '--item', 'MUG-001:2', '--item=sticker-pack:10']),
      {
        kind: 'orders place',
        userId: 'u1',
        items: [
          { sku: 'MUG-001', quantity: 2 },
          { sku: 'sticker-pack', quantity: 10 },
        ],
        key: undefined,
        json: false,
      },
    );
    const keyed = parseCommand([
      'orders',
      'place',
      '--user',
      'u1',
      '--item',
      'A:1',
      '--key',
      'k-1',
      '--json',
    ]);
    assert.equal(keyed.kind === 'orders place' && keyed.key, 'k-1');
    assert.equal(keyed.kind === 'orders place' && keyed.json, true);
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
    usageError(['orders', 'place', '--user', 'u1'], /needs at least one --item/);
    const own = parseCommand(['orders', 'place', '--item', 'A:1']);
    assert.equal(own.kind === 'orders place' && own.userId, '', 'no --user: the caller');
    usageError(['orders', 'place', '--user', 'u1', '--item', 'A:1', '--key', ''], /--key must be 1 to 128/);
    usageError(
      ['orders', 'place', '--user', 'u1', '--item', 'A:1', '--key', 'k'.repeat(129)],
      /--key must be 1 to 128/,
    );
    usageError(['orders', 'place', '--user', 'u1', '--item', 'A:1', 'extra'], /unexpected argument "extra"/);
  });
});

describe('orders commands on one order', () => {
  it('parses pay, ship, deliver, cancel, show and history', () => {
    assert.deepEqual(parseCommand(['orders', 'pay', id]), { kind: 'orders pay', id, json: false });
    assert.deepEqual(parseCommand(['orders', 'ship', id, '--carrier', 'DHL', '--tracking', '0034']), {
      kind: 'orders ship',
      id,
      carrier: 'DHL',
      tracking: '0034',
      json: false,
    });
    assert.deepEqual(parseCommand(['orders', 'deliver', id, '--json']), {
      kind: 'orders deliver',
      id,
      json: true,
    });
    assert.deepEqual(parseCommand(['orders', 'cancel', '--reason', 'changed my mind', id]), {
      kind: 'orders cancel',
      id,
      reason: 'changed my mind',
      json: false,
    });
    assert.deepEqual(parseCommand(['orders', 'show', id]), { kind: 'orders show', id, json: false });
    assert.deepEqual(parseCommand(['orders', 'history', id]), { kind: 'orders history', id, json: false });
  });

  it('wants the order id and the options each command needs', () => {
    usageError(['orders', 'pay'], /orders pay needs an order id/);
    usageError(['orders', 'show', id, 'x'], /orders show: unexpected argument "x"/);
    usageError(['orders', 'ship', id, '--carrier', 'DHL'], /orders ship needs --carrier and --tracking/);
    usageError(['orders', 'cancel', id], /orders cancel needs --reason/);
    usageError(['orders', 'refund', id], /unknown command: orders refund/);
  });

  it('shows the orders help without a subcommand or with --help', () => {
    assert.deepEqual(parseCommand(['orders']), { kind: 'help', topic: 'orders' });
    assert.deepEqual(parseCommand(['orders', 'ship', '--help']), { kind: 'help', topic: 'orders' });
    assert.deepEqual(parseCommand(['help', 'orders']), { kind: 'help', topic: 'orders' });
    assert.deepEqual(parseCommand(['help', 'projections']), { kind: 'help', topic: 'projections' });
  });
});

describe('orders list', () => {
  it('parses the user, a status name and the limit', () => {
    assert.deepEqual(parseCommand(['orders', 'list', '--user', 'u1']), {
      kind: 'orders list',
      userId: 'u1',
      status: undefined,
      limit: undefined,
      json: false,
    });
    for (const status of ['placed', 'paid', 'shipped', 'delivered', 'cancelled']) {
      const command = parseCommand(['orders', 'list', '--user', 'u1', '--status', status, '--limit', '5']);
      assert.deepEqual(command, { kind: 'orders list', userId: 'u1', status, limit: 5, json: false });
    }
  });

  it('rejects unknown statuses, a missing user and bad limits', () => {
    for (const bad of ['PAID', 'canceled', 'unspecified', '']) {
      usageError(
        ['orders', 'list', '--user', 'u1', '--status', bad],
        /--status must be one of placed, paid, shipped, delivered, cancelled/,
      );
    }
    const own = parseCommand(['orders', 'list', '--status', 'paid']);
    assert.equal(own.kind === 'orders list' && own.userId, '', 'no --user: the caller');
    usageError(
      ['orders', 'list', '--user', 'u1', '--limit', '0'],
      /--limit must be a whole number from 1 to 500/,
    );
  });
});

describe('orders at', () => {
  it('takes exactly one of --version and --time', () => {
    assert.deepEqual(parseCommand(['orders', 'at', id, '--version', '2']), {
      kind: 'orders at',
      id,
      at: { version: 2 },
      json: false,
    });
    const at = parseCommand(['orders', 'at', id, '--time', '2026-01-02T03:04:05.250Z']);
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
    usageError(['orders', 'at', '--version', '1'], /orders at needs an order id/);
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
    assert.deepEqual(parseCommand(['projections', 'rebuild']), { kind: 'projections rebuild', json: false });
    assert.deepEqual(parseCommand(['projections', 'rebuild', '--json']), {
      kind: 'projections rebuild',
      json: true,
    });
    assert.deepEqual(parseCommand(['projections']), { kind: 'help', topic: 'projections' });
    usageError(['projections', 'drop'], /unknown command: projections drop/);
    usageError(['projections', 'rebuild', 'now'], /projections rebuild: unexpected argument "now"/);
    usageError(
      ['orders', 'at', id, '--version', '-1'],
      /^Option '--version' argument is ambiguous\. Did you forget to specify the option argument for '--version'\?$/,
    );
  });
});

describe('orders republish arguments', () => {
  it('reads --from and an optional --to (0: the newest)', () => {
    assert.deepEqual(parseCommand(['orders', 'republish', '--from', '5']), {
      kind: 'orders republish',
      from: 5,
      to: 0,
      json: false,
    });
    assert.deepEqual(parseCommand(['orders', 'republish', '--from', '5', '--to', '9', '--json']), {
      kind: 'orders republish',
      from: 5,
      to: 9,
      json: true,
    });
  });

  it('refuses a missing or non-numeric position', () => {
    assert.throws(() => parseCommand(['orders', 'republish']), /needs --from N/);
    assert.throws(
      () => parseCommand(['orders', 'republish', '--from', 'x']),
      /--from must be a whole number/,
    );
  });
});
