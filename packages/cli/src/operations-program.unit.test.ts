import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommand } from './args.ts';
import { UsageError } from './cli-error.ts';

function usageError(argv: string[], message: RegExp): void {
  assert.throws(
    () => parseCommand(argv),
    (error: unknown) => error instanceof UsageError && message.test(error.message),
  );
}

describe('parseCommand: dlq and webhooks', () => {
  it('shows their help', () => {
    assert.deepEqual(parseCommand(['dlq']), { kind: 'help', topic: 'dlq' });
    assert.deepEqual(parseCommand(['help', 'webhooks']), { kind: 'help', topic: 'webhooks' });
    assert.deepEqual(parseCommand(['dlq', 'redrive', '--help']), { kind: 'help', topic: 'dlq' });
  });

  it('parses dlq list with filters and paging, and dlq show', () => {
    assert.deepEqual(
      parseCommand([
        'dlq',
        'list',
        '--subject',
        'order.paid',
        '--reason',
        'poison',
        '--limit',
        '20',
        '--after',
        '17',
      ]),
      {
        kind: 'dlq list',
        subject: 'order.paid',
        reasonContains: 'poison',
        limit: 20,
        after: '17',
        json: false,
      },
    );
    assert.deepEqual(parseCommand(['dlq', 'show', '42', '--json']), {
      kind: 'dlq show',
      id: '42',
      json: true,
    });
    usageError(['dlq', 'show'], /dlq show needs a dead letter id/);
  });

  it('takes exactly one of an id, --all or a filter for redrive and purge', () => {
    assert.deepEqual(parseCommand(['dlq', 'redrive', '42']), {
      kind: 'dlq redrive',
      selection: { id: '42' },
      limit: undefined,
      json: false,
    });
    assert.deepEqual(parseCommand(['dlq', 'redrive', '--reason', 'smtp', '--limit', '500']), {
      kind: 'dlq redrive',
      selection: { subject: undefined, reasonContains: 'smtp' },
      limit: 500,
      json: false,
    });
    assert.deepEqual(parseCommand(['dlq', 'purge', '--all']), {
      kind: 'dlq purge',
      selection: { all: true },
      json: false,
    });
    usageError(['dlq', 'purge'], /needs a dead letter id, --all, --subject or --reason/);
    usageError(['dlq', 'redrive', '42', '--all'], /give an id, or --all/);
    usageError(['dlq', 'purge', '--all', '--subject', 'user.created'], /--all cannot be combined/);
    usageError(['dlq', 'purge', '--limit', '3', '--all'], /Unknown option '--limit'/);
    usageError(['dlq', 'redrive', '--all', '--limit', '0'], /--limit must be a whole number from 1 to 10000/);
    usageError(['dlq', 'drop'], /unknown command: dlq drop/);
  });

  it('parses webhooks register, list and delete', () => {
    assert.deepEqual(parseCommand(['webhooks', 'register', '--global', '--url', 'https://h.example/in']), {
      kind: 'webhooks register',
      userId: undefined,
      global: true,
      url: 'https://h.example/in',
      json: false,
    });
    assert.deepEqual(parseCommand(['webhooks', 'list', '--user', 'u1']), {
      kind: 'webhooks list',
      userId: 'u1',
      limit: undefined,
      json: false,
    });
    assert.deepEqual(parseCommand(['webhooks', 'delete', 'w1']), {
      kind: 'webhooks delete',
      id: 'w1',
      json: false,
    });
    usageError(['webhooks', 'register', '--url', 'https://h.example/in'], /either --user ID or --global/);
    usageError(
      ['webhooks', 'register', '--user', 'u1', '--global', '--url', 'x'],
      /either --user ID or --global/,
    );
    usageError(['webhooks', 'register', '--global'], /needs --url/);
  });

  it('parses webhooks sink with at most one answer', () => {
    assert.deepEqual(parseCommand(['webhooks', 'sink']), {
      kind: 'webhooks sink',
      answer: undefined,
      limit: undefined,
      json: false,
    });
    assert.deepEqual(parseCommand(['webhooks', 'sink', '--refuse', '--limit', '5', '--json']), {
      kind: 'webhooks sink',
      answer: 'refuse',
      limit: 5,
      json: true,
    });
    usageError(['webhooks', 'sink', '--accept', '--fail'], /one of --accept, --refuse, --fail/);
    usageError(['webhooks', 'sink', 'now'], /unexpected argument/);
    usageError(['webhooks', 'sink', '--limit', '0'], /--limit must be/);
  });
});
