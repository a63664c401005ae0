import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommand } from './args.ts';
import { UsageError } from './cli-error.ts';

function usageError(argv: string[], message: RegExp): void {
  assert.throws(
    () => parseCommand(argv),
    (error: unknown) => error instanceof UsageError && error.exitCode === 64 && message.test(error.message),
  );
}

describe('parseCommand', () => {
  it('shows help without arguments, for help and for --help', () => {
    assert.deepEqual(parseCommand([]), { kind: 'help', topic: undefined });
    assert.deepEqual(parseCommand(['help']), { kind: 'help', topic: undefined });
    assert.deepEqual(parseCommand(['--help']), { kind: 'help', topic: undefined });
    assert.deepEqual(parseCommand(['help', 'users']), { kind: 'help', topic: 'users' });
    assert.deepEqual(parseCommand(['users']), { kind: 'help', topic: 'users' });
    assert.deepEqual(parseCommand(['users', 'create', '--help']), { kind: 'help', topic: 'users' });
    assert.deepEqual(parseCommand(['status', '-h']), { kind: 'help', topic: 'status' });
  });

  it('parses users create and users get', () => {
    assert.deepEqual(
      parseCommand([
        'users',
        'create',
        '--email',
        'ada@example.com',
        '--name',
        'Ada Lovelace',
        '--password',
        'pw',
      ]),
      {
        kind: 'users create',
        email: 'ada@example.com',
        name: 'Ada Lovelace',
        password: 'pw',
        json: false,
      },
    );
    assert.deepEqual(
      parseCommand(['users', 'create', '--name=Ada', '--email=a@b.c', '--password=x', '--json']),
      {
        kind: 'users create',
        email: 'a@b.c',
        name: 'Ada',
        password: 'x',
        json: true,
      },
    );
    assert.deepEqual(parseCommand(['login', '--email', 'a@b.c', '--password', 'secret']), {
      kind: 'login',
      email: 'a@b.c',
      password: 'secret',
      json: false,
    });
    assert.deepEqual(parseCommand(['users', 'get', 'abc', '--json']), {
      kind: 'users get',
      id: 'abc',
      json: true,
    });
  });

  it('parses notifications list with optional user and limit', () => {
    assert.deepEqual(parseCommand(['notifications', 'list']), {
      kind: 'notifications list',
      userId: undefined,
      limit: undefined,
      json: false,
    });
    assert.deepEqual(parseCommand(['notifications', 'list', '--user', 'u1', '--limit', '25']), {
      kind: 'notifications list',
      userId: 'u1',
      limit: 25,
      json: false,
    });
  });

  it('parses mail and status with --json', () => {
    assert.deepEqual(parseCommand(['mail']), { kind: 'mail', json: false });
    assert.deepEqual(parseCommand(['status', '--json']), { kind: 'status', json: true });
  });

  it('parses the account commands, each with its own options only', () => {
    const id = '0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e';
    assert.deepEqual(parseCommand(['users', 'grant-role', id, 'admin']), {
      kind: 'users grant-role',
      id,
      json: false,
    });
    assert.deepEqual(parseCommand(['users', 'change-password', '--current', 'a', '--new', 'b', '--json']), {
      kind: 'users change-password',
      current: 'a',
      next: 'b',
      json: true,
    });
    assert.deepEqual(parseCommand(['users', 'request-reset', '--email', 'a@b.c']), {
      kind: 'users request-reset',
      email: 'a@b.c',
      json: false,
    });
    assert.deepEqual(parseCommand(['users', 'bootstrap-admin', '--email', 'a@b.c', '--password', 'p']), {
      kind: 'users bootstrap-admin',
      email: 'a@b.c',
      password: 'p',
      name: 'Admin',
      databaseUrl: undefined,
      json: false,
    });
    usageError(['users', 'request-reset', '--email', 'a@b.c', '--token', 't'], /Unknown option '--token'/);
    usageError(
      ['users', 'reset-password', '--token', 't'],
      /users reset-password needs --token and --password/,
    );
    usageError(['users', 'revoke-role', id], /users revoke-role needs a user id and a role/);
    usageError(['users', 'grant-role', id, 'admin', 'x'], /unexpected argument "x"/);
    usageError(['users', 'grant-role', id, 'root'], /the one role is admin, not "root"/);
  });

  it('parses users republish: --from required, --to 0 (the newest) by default', () => {
    assert.deepEqual(parseCommand(['users', 'republish', '--from', '3']), {
      kind: 'users republish',
      from: 3,
      to: 0,
      json: false,
    });
    assert.deepEqual(parseCommand(['users', 'republish', '--from', '1', '--to', '9', '--json']), {
      kind: 'users republish',
      from: 1,
      to: 9,
      json: true,
    });
    usageError(['users', 'republish'], /users republish needs --from/);
    usageError(['users', 'republish', '--from', 'x'], /--from must be a whole number, not "x"/);
  });

  it('rejects unknown commands, options and missing or extra arguments', () => {
    usageError(['bogus'], /unknown command: bogus/);
    usageError(['users', 'delete'], /unknown command: users delete/);
    usageError(['users', 'create', '--email', 'a@b.c'], /needs --email, --name and --password/);
    usageError(
      ['users', 'create', '--email', 'a@b.c', '--name', 'A'],
      /needs --email, --name and --password/,
    );
    usageError(['login', '--email', 'a@b.c'], /login needs --email and --password/);
    usageError(
      ['users', 'create', '--email', 'a@b.c', '--name', 'A', '--password', 'p', '--age', '3'],
      /Unknown option '--age'$/,
    );
    usageError(['users', 'create', '--email'], /argument missing/);
    usageError(['users', 'get'], /needs a user id/);
    usageError(['users', 'get', 'a', 'b'], /unexpected argument "b"/);
    usageError(['mail', 'extra'], /mail: unexpected argument "extra"/);
    usageError(['help', 'nothing'], /no help for "nothing"/);
    usageError(['up'], /\.\/bin\/conveyor up/);
  });

  it('accepts --limit from 1 to 500 only', () => {
    for (const bad of ['0', '501', '-1', '2.5', 'ten']) {
      usageError(['notifications', 'list', `--limit=${bad}`], /--limit must be a whole number from 1 to 500/);
    }
    const last = parseCommand(['notifications', 'list', '--limit', '500']);
    assert.equal(last.kind === 'notifications list' && last.limit, 500);
  });
});
