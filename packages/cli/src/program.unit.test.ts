import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from './cli-error.ts';
import { parseCommand } from './program.ts';

const request = (argv: string[]) => parseCommand(argv).request as Record<string, unknown>;

/** The help a command line prints (exit 0). */
async function help(argv: string[]): Promise<string> {
  const parsed = parseCommand(argv);
  assert.equal(parsed.request.kind, 'help', argv.join(' '));
  return (await parsed.execute({})).text;
}

function usageError(argv: string[], message: RegExp): void {
  assert.throws(
    () => parseCommand(argv),
    (error: unknown) => error instanceof UsageError && error.exitCode === 64 && message.test(error.message),
  );
}

describe('parseCommand', () => {
  it('shows help without arguments, for help and for --help', async () => {
    for (const argv of [[], ['help'], ['--help']]) {
      const text = await help(argv);
      assert.match(text, /^Usage: \.\/bin\/conveyor <command> \[options\]\n/);
      assert.match(text, /^ {2}users create --email <EMAIL> --name <NAME> --password <PASSWORD>$/m);
      assert.match(text, /^ {2}orders cancel <ID> --reason <TEXT> +cancel an order that has not shipped$/m);
      assert.match(text, /^Exit codes: 0 ok, 1 failed or unreachable, 2 rejected/m);
    }
    for (const argv of [['help', 'users'], ['users']]) {
      const text = await help(argv);
      assert.match(text, /^Usage: \.\/bin\/conveyor users \[options\] \[command\]\n/);
      assert.match(text, /^ {2}users get <ID> +show one user/m);
      assert.doesNotMatch(text, /orders/);
    }
    assert.match(
      await help(['users', 'create', '--help']),
      /^Usage: \.\/bin\/conveyor users create \[options\]\n/,
    );
    assert.match(await help(['help', 'users', 'create']), /^ {2}--name <NAME>$/m);
    assert.match(await help(['status', '-h']), /^Usage: \.\/bin\/conveyor status \[options\]\n/);
  });

  it('shows the orders help without a subcommand or with --help', async () => {
    for (const argv of [['orders'], ['help', 'orders'], ['orders', '--help']]) {
      const text = await help(argv);
      assert.match(text, /^Usage: \.\/bin\/conveyor orders \[options\] \[command\]\n/);
      assert.match(text, /^ {2}orders ship <ID> --carrier <C> --tracking <T>$/m);
    }
    const ship = await help(['orders', 'ship', '--help']);
    assert.match(ship, /^Usage: \.\/bin\/conveyor orders ship \[options\] <ID>\n/);
    assert.match(ship, /^ {2}--carrier <C>$/m);
    assert.match(
      await help(['help', 'projections']),
      /^ {2}projections rebuild +rebuild the order read models/m,
    );
  });

  it('parses users create and users get', () => {
    assert.deepEqual(
      request([
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
    assert.deepEqual(request(['users', 'create', '--name=Ada', '--email=a@b.c', '--password=x', '--json']), {
      kind: 'users create',
      email: 'a@b.c',
      name: 'Ada',
      password: 'x',
      json: true,
    });
    assert.deepEqual(request(['login', '--email', 'a@b.c', '--password', 'secret']), {
      kind: 'login',
      email: 'a@b.c',
      password: 'secret',
      json: false,
    });
    assert.deepEqual(request(['users', 'get', 'abc', '--json']), {
      kind: 'users get',
      id: 'abc',
      json: true,
    });
  });

  it('parses notifications list with optional user and limit', () => {
    assert.deepEqual(request(['notifications', 'list']), { kind: 'notifications list', json: false });
    assert.deepEqual(request(['notifications', 'list', '--user', 'u1', '--limit', '25']), {
      kind: 'notifications list',
      user: 'u1',
      limit: 25,
      json: false,
    });
  });

  it('parses mail and status with --json', () => {
    assert.deepEqual(request(['mail']), { kind: 'mail', json: false });
    assert.deepEqual(request(['status', '--json']), { kind: 'status', json: true });
  });

  it('parses the account commands, each with its own options only', () => {
    const id = '0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e';
    assert.deepEqual(request(['users', 'grant-role', id, 'admin']), {
      kind: 'users grant-role',
      id,
      grant: true,
      json: false,
    });
    assert.deepEqual(request(['users', 'change-password', '--current', 'a', '--new', 'b', '--json']), {
      kind: 'users change-password',
      current: 'a',
      new: 'b',
      json: true,
    });
    assert.deepEqual(request(['users', 'request-reset', '--email', 'a@b.c']), {
      kind: 'users request-reset',
      email: 'a@b.c',
      json: false,
    });
    assert.deepEqual(request(['users', 'bootstrap-admin', '--email', 'a@b.c', '--password', 'p']), {
      kind: 'users bootstrap-admin',
      email: 'a@b.c',
      password: 'p',
      name: 'Admin',
      json: false,
    });
    usageError(
      ['users', 'request-reset', '--email', 'a@b.c', '--token', 't'],
      /^users request-reset: unknown option '--token'$/,
    );
    usageError(
      ['users', 'reset-password', '--token', 't'],
      /^users reset-password: required option '--password <PASSWORD>' not specified$/,
    );
    usageError(['users', 'revoke-role', id], /^users revoke-role: missing required argument 'ROLE'$/);
    usageError(
      ['users', 'grant-role', id, 'admin', 'x'],
      /^users grant-role: too many arguments for 'grant-role'\. Expected 2 arguments but got 3: .+, admin, x\.$/,
    );
    usageError(['users', 'grant-role', id, 'root'], /the one role is admin, not "root"/);
  });

  it('parses users republish: --from required, --to 0 (the newest) by default', () => {
    assert.deepEqual(request(['users', 'republish', '--from', '3']), {
      kind: 'users republish',
      from: 3,
      to: 0,
      service: 'users',
      json: false,
    });
    assert.deepEqual(request(['users', 'republish', '--from', '1', '--to', '9', '--json']), {
      kind: 'users republish',
      from: 1,
      to: 9,
      service: 'users',
      json: true,
    });
    usageError(['users', 'republish'], /^users republish: required option '--from <N>' not specified$/);
    usageError(['users', 'republish', '--from', 'x'], /--from must be a whole number, not "x"/);
  });

  it('rejects unknown commands, options and missing or extra arguments', () => {
    usageError(['bogus'], /^unknown command 'bogus'/);
    usageError(['users', 'delete'], /^users: unknown command 'delete'/);
    usageError(
      ['users', 'create', '--email', 'a@b.c'],
      /^users create: required option '--name <NAME>' not specified$/,
    );
    usageError(
      ['users', 'create', '--email', 'a@b.c', '--name', 'A'],
      /^users create: required option '--password <PASSWORD>' not specified$/,
    );
    usageError(['users', 'create', '--name', 'A', '--password', 'p'], /required option '--email <EMAIL>'/);
    usageError(
      ['login', '--email', 'a@b.c'],
      /^login: required option '--password <PASSWORD>' not specified$/,
    );
    usageError(
      ['users', 'create', '--email', 'a@b.c', '--name', 'A', '--password', 'p', '--age', '3'],
      /^users create: unknown option '--age'/,
    );
    usageError(['users', 'create', '--email'], /^users create: option '--email <EMAIL>' argument missing$/);
    usageError(['users', 'get'], /^users get: missing required argument 'ID'$/);
    usageError(
      ['users', 'get', 'a', 'b'],
      /too many arguments for 'get'\. Expected 1 argument but got 2: a, b\./,
    );
    usageError(
      ['mail', 'extra'],
      /^mail: too many arguments for 'mail'\. Expected 0 arguments but got 1: extra\.$/,
    );
    usageError(['help', 'nothing'], /no help for "nothing"/);
    usageError(['up'], /\.\/bin\/conveyor up/);
  });

  it('takes --json anywhere and bounds what it echoes', () => {
    assert.deepEqual(request(['--json', 'users', 'get', 'abc']), {
      kind: 'users get',
      id: 'abc',
      json: true,
    });
    usageError(['users', 'get', 'a', 'x'.repeat(10_000)], /^users get: too many arguments.{0,300}…$/);
  });

  it('accepts --limit from 1 to 500 only', () => {
    for (const bad of ['0', '501', '-1', '2.5', 'ten']) {
      usageError(['notifications', 'list', `--limit=${bad}`], /--limit must be a whole number from 1 to 500/);
    }
    assert.equal(request(['notifications', 'list', '--limit', '500']).limit, 500);
  });
});
