import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from './cli-error.ts';
import { parseCommand } from './program.ts';

const request = (argv: string[]) => parseCommand(argv).request as Record<string, unknown>;

function usageError(argv: string[], message: RegExp): void {
  assert.throws(
    () => parseCommand(argv),
    (error: unknown) => error instanceof UsageError && message.test(error.message),
  );
}

describe('parseCommand: dlq and webhooks', () => {
  it('shows their help', async () => {
    for (const [argv, usage] of [
      [['dlq'], 'dlq [options] [command]'],
      [['help', 'webhooks'], 'webhooks [options] [command]'],
      [['dlq', 'redrive', '--help'], 'dlq redrive [options] [ID]'],
    ] as const) {
      const parsed = parseCommand([...argv]);
      assert.equal(parsed.request.kind, 'help');
      assert.ok(
        (await parsed.execute({})).text.startsWith(`Usage: ./bin/conveyor ${usage}\n`),
        argv.join(' '),
      );
    }
  });

  it('parses dlq list with filters and paging, and dlq show', () => {
    assert.deepEqual(
      request([
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
        reason: 'poison',
        limit: 20,
        after: '17',
        json: false,
      },
    );
    assert.deepEqual(request(['dlq', 'show', '42', '--json']), {
      kind: 'dlq show',
      id: '42',
      json: true,
    });
    usageError(['dlq', 'show'], /^dlq show: missing required argument 'ID'$/);
  });

  it('takes exactly one of an id, --all or a filter for redrive and purge', () => {
    assert.deepEqual(request(['dlq', 'redrive', '42']), {
      kind: 'dlq redrive',
      selection: { id: '42' },
      limit: undefined,
      json: false,
    });
    assert.deepEqual(request(['dlq', 'redrive', '--reason', 'smtp', '--limit', '500']), {
      kind: 'dlq redrive',
      selection: { subject: undefined, reason: 'smtp' },
      limit: 500,
      json: false,
    });
    assert.deepEqual(request(['dlq', 'purge', '--all']), {
      kind: 'dlq purge',
      selection: { all: true },
      limit: undefined,
      json: false,
    });
    usageError(['dlq', 'purge'], /needs a dead letter id, --all, --subject or --reason/);
    usageError(['dlq', 'redrive', '42', '--all'], /give an id, or --all/);
    usageError(['dlq', 'purge', '--all', '--subject', 'user.created'], /--all cannot be combined/);
    usageError(['dlq', 'purge', '--limit', '3', '--all'], /^dlq purge: unknown option '--limit'$/);
    usageError(['dlq', 'redrive', '--all', '--limit', '0'], /--limit must be a whole number from 1 to 10000/);
    usageError(['dlq', 'drop'], /^dlq: unknown command 'drop'/);
  });

  it('parses webhooks register, list and delete', () => {
    assert.deepEqual(request(['webhooks', 'register', '--global', '--url', 'https://h.example/in']), {
      kind: 'webhooks register',
      user: undefined,
      global: true,
      url: 'https://h.example/in',
      json: false,
    });
    assert.deepEqual(request(['webhooks', 'list', '--user', 'u1']), {
      kind: 'webhooks list',
      user: 'u1',
      json: false,
    });
    assert.deepEqual(request(['webhooks', 'delete', 'w1']), {
      kind: 'webhooks delete',
      id: 'w1',
      json: false,
    });
    usageError(['webhooks', 'register', '--url', 'https://h.example/in'], /either --user ID or --global/);
    usageError(
      ['webhooks', 'register', '--user', 'u1', '--global', '--url', 'x'],
      /either --user ID or --global/,
    );
    usageError(
      ['webhooks', 'register', '--global'],
      /^webhooks register: required option '--url <URL>' not specified$/,
    );
  });

  it('parses webhooks sink with at most one answer', () => {
    assert.deepEqual(request(['webhooks', 'sink']), {
      kind: 'webhooks sink',
      answer: undefined,
      limit: undefined,
      json: false,
    });
    assert.deepEqual(request(['webhooks', 'sink', '--refuse', '--limit', '5', '--json']), {
      kind: 'webhooks sink',
      answer: 'refuse',
      limit: 5,
      json: true,
    });
    usageError(['webhooks', 'sink', '--accept', '--fail'], /one of --accept, --refuse, --fail/);
    usageError(['webhooks', 'sink', 'now'], /^webhooks sink: too many arguments for 'sink'/);
    usageError(['webhooks', 'sink', '--limit', '0'], /--limit must be/);
  });
});
