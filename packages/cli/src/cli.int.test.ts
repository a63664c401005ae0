import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { migrate } from '@conveyor/platform';
import { freePort } from '@conveyor/stack';
import { envPrefix, serviceTable } from '@conveyor/stack/service-table';
import { testDatabase, testNats } from '@conveyor/stack/testing';
import { migrations } from '../../../services/users/src/adapters/migrations.ts';
import { loadUsersConfig } from '../../../services/users/src/config.ts';
import { startUsersService } from '../../../services/users/src/service.ts';
import { cli } from './cli-process.ts';

/** The real users service, in-process, on a private database and NATS. */
async function realUsers(): Promise<{ address: string; databaseUrl: string; stop(): Promise<void> }> {
  const db = await testDatabase('cli_users');
  const nats = await testNats();
  await migrate({ url: db.url, schema: 'users', migrations });
  const service = await startUsersService(
    loadUsersConfig({
      DATABASE_URL: db.url,
      NATS_URL: nats.url,
      GRPC_PORT: '0',
      OPS_PORT: '0',
      LOG_LEVEL: 'silent',
      USERS_ARGON2_MEMORY_KIB: '8192',
      USERS_ARGON2_PASSES: '1',
    }),
  );
  return {
    address: `127.0.0.1:${service.grpcPort}`,
    databaseUrl: db.url,
    async stop() {
      await service.stop();
      await nats.stop();
      await db.drop();
    },
  };
}

describe('conveyor CLI (child process)', () => {
  let home: string;
  let stopped: Record<string, string>;
  let users: Awaited<ReturnType<typeof realUsers>>;

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'conveyor-cli-'));
    const port = await freePort();
    // Every address points at a port nobody listens on; CONVEYOR_HOME has no stack.json.
    stopped = {
      CONVEYOR_HOME: home,
      XDG_STATE_HOME: home,
      SMTP_WEB_URL: `http://127.0.0.1:${port}`,
      WEBHOOK_SINK_URL: `http://127.0.0.1:${port}`,
    };
    for (const entry of serviceTable) {
      stopped[`${envPrefix(entry.name)}_ADDR`] = `127.0.0.1:${port}`;
      stopped[`${envPrefix(entry.name)}_OPS_URL`] = `http://127.0.0.1:${port}`;
    }
    stopped.GATEWAY_URL = `http://127.0.0.1:${port}`;
    users = await realUsers();
  });

  after(async () => {
    await users?.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('says the service is not reachable and how to start it (exit 1)', async () => {
    const run = await cli(
      ['users', 'create', '--email', 'ada@example.com', '--name', 'Ada', '--password', 'p'.repeat(12)],
      stopped,
    );
    assert.equal(run.code, 1, run.stderr);
    assert.equal(
      run.stderr,
      `conveyor: the users service is not reachable at ${stopped.USERS_ADDR} — start the stack with ./bin/conveyor up\n`,
    );
    assert.equal(run.stdout, '');
    const list = await cli(['notifications', 'list'], { ...stopped, CONVEYOR_TOKEN: 'a.b.c' });
    assert.equal(list.code, 1);
    assert.match(
      list.stderr,
      /the notifications service is not reachable at 127\.0\.0\.1:\d+ — start the stack/,
    );
  });

  it('reports an unreachable SMTP sink and down services in status (exit 1)', async () => {
    const mail = await cli(['mail'], stopped);
    assert.equal(mail.code, 1);
    assert.match(mail.stderr, /the SMTP sink is not reachable at http:\/\/127\.0\.0\.1:\d+/);
    const sink = await cli(['webhooks', 'sink', '--refuse'], stopped);
    assert.equal(sink.code, 1);
    assert.match(
      sink.stderr,
      /the webhook sink is not reachable at http:\/\/127\.0\.0\.1:\d+ — start the stack/,
    );
    const status = await cli(['status'], stopped);
    assert.equal(status.code, 1, status.stderr);
    assert.match(status.stdout, /^stack: no .*stack\.json; checking the default addresses$/m);
    assert.match(
      status.stdout,
      /^users +127\.0\.0\.1:\d+ +unreachable +http:\/\/127\.0\.0\.1:\d+ +unreachable$/m,
    );
    // The gateway is probed over HTTP, not gRPC, and listed with the three services.
    assert.match(
      status.stdout,
      /^gateway +http:\/\/127\.0\.0\.1:\d+ +unreachable +http:\/\/127\.0\.0\.1:\d+ +unreachable$/m,
    );
    const json = await cli(['status', '--json'], stopped);
    assert.equal(json.code, 1);
    const parsed = JSON.parse(json.stdout) as { up: boolean; stack: unknown; services: { up: boolean }[] };
    assert.equal(parsed.up, false);
    assert.equal(parsed.stack, null);
    assert.ok(parsed.services.length > 0 && parsed.services.every((s) => !s.up));
  });

  it('names an unreadable GRPC_TLS_CA_FILE instead of failing with a stack', async () => {
    const run = await cli(['orders', 'show', '0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e'], {
      ...stopped,
      CONVEYOR_TOKEN: 'x',
      GRPC_TLS_CA_FILE: '/nonexistent/ca.crt',
    });
    assert.equal(run.code, 1);
    assert.equal(run.stderr, 'conveyor: GRPC_TLS_CA_FILE: cannot read /nonexistent/ca.crt: ENOENT\n');
  });

  it('exits 64 with a usage hint on unknown commands and options', async () => {
    for (const args of [
      ['bogus'],
      ['users', 'create', '--email', 'a@b.c', '--nmae', 'x'],
      ['users', 'create', '--email', 'a@b.c', '--name', 'x'],
      ['login', '--email', 'a@b.c'],
      ['users', 'get'],
    ]) {
      const run = await cli(args, stopped);
      assert.equal(run.code, 64, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /^conveyor: .+\nRun \.\/bin\/conveyor help for usage\.\n$/);
    }
    const help = await cli(['help'], stopped);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /users create --email <EMAIL> --name <NAME> --password <PASSWORD>/);
    assert.match(help.stdout, /login --email <EMAIL> --password <PASSWORD>/);
  });

  const password = 'correct horse battery';

  it('signs up with the same answer for a new and a taken address, as text or as JSON', async () => {
    const env = { ...stopped, USERS_ADDR: users.address };
    const signUp = (email: string, json: string[] = []) =>
      cli(
        ['users', 'create', '--email', email, '--name', 'Ada Lovelace', '--password', password, ...json],
        env,
      );
    const run = await signUp('ada@example.com');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^signed up ada@example\.com: log in with \.\/bin\/conveyor login\n/);
    assert.match(run.stdout, /already had an account, nothing changed and its owner was mailed/);
    const again = await signUp(' ADA@example.com');
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, run.stdout);
    const json = await signUp('bea@example.com', ['--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), { signedUp: 'bea@example.com' });
    const state = await mkdtemp(join(tmpdir(), 'conveyor-state-'));
    try {
      const login = await cli(['login', '--email', 'ada@example.com', '--password', password, '--json'], {
        ...env,
        XDG_STATE_HOME: state,
      });
      assert.equal(login.code, 0, login.stderr);
      assert.match((JSON.parse(login.stdout) as { userId: string }).userId, /^[0-9a-f-]{36}$/);
    } finally {
      await rm(state, { recursive: true, force: true });
    }
  });

  it('prints the status name and the message of a rejected request (exit 2)', async () => {
    const env = { ...stopped, USERS_ADDR: users.address };
    await cli(
      ['users', 'create', '--email', 'taken@example.com', '--name', 'Ada', '--password', password],
      env,
    );
    const bad = await cli(
      ['users', 'create', '--email', 'not-an-email', '--name', 'Ada', '--password', password],
      env,
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^conveyor: INVALID_ARGUMENT: email: /);
    const wrong = await cli(['login', '--email', 'taken@example.com', '--password', 'not the password'], env);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /^conveyor: UNAUTHENTICATED: /);
    assert.doesNotMatch(wrong.stderr, /not the password/);
  });

  it('logs in, saves the token for its owner only, and sends it; CONVEYOR_TOKEN overrides it', async () => {
    const state = await mkdtemp(join(tmpdir(), 'conveyor-state-'));
    const env = { ...stopped, USERS_ADDR: users.address, XDG_STATE_HOME: state };
    try {
      const before = await cli(['orders', 'list'], env);
      assert.equal(before.code, 1);
      assert.match(before.stderr, /not logged in: run \.\/bin\/conveyor login --email/);
      await cli(
        ['users', 'create', '--email', 'cy@example.com', '--name', 'Cy', '--password', password],
        env,
      );
      const login = await cli(['login', '--email', 'cy@example.com', '--password', password, '--json'], env);
      assert.equal(login.code, 0, login.stderr);
      const { userId, role, tokenPath } = JSON.parse(login.stdout) as {
        userId: string;
        role: string;
        tokenPath: string;
      };
      assert.equal(role, 'customer');
      assert.equal(tokenPath, join(state, 'conveyor', 'token'));
      assert.equal((await stat(tokenPath)).mode & 0o777, 0o600);
      assert.match(await readFile(tokenPath, 'utf8'), /^ey[\w-]+\.[\w-]+\.[\w-]+\n$/);
      const me = await cli(['users', 'get', userId], env);
      assert.equal(me.code, 0, me.stderr);
      assert.match(me.stdout, /email +cy@example\.com/);
      const bogus = await cli(['users', 'get', userId], { ...env, CONVEYOR_TOKEN: 'not.a.token' });
      assert.equal(bogus.code, 2);
      assert.match(bogus.stderr, /UNAUTHENTICATED/);
      // Logging out ends the session: the token is refused (even where a copy was kept) and forgotten.
      const saved = (await readFile(tokenPath, 'utf8')).trim();
      const out = await cli(['logout'], env);
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /^logged out/);
      await assert.rejects(stat(tokenPath), { code: 'ENOENT' });
      const copy = await cli(['users', 'get', userId], { ...env, CONVEYOR_TOKEN: saved });
      assert.equal(copy.code, 2);
      assert.match(copy.stderr, /UNAUTHENTICATED.*revoked/);
    } finally {
      await rm(state, { recursive: true, force: true });
    }
  });

  it('makes the first admin as an operator, once; that admin grants and revokes the role', async () => {
    const state = await mkdtemp(join(tmpdir(), 'conveyor-state-'));
    const env = { ...stopped, USERS_ADDR: users.address, XDG_STATE_HOME: state, USERS_ARGON2_PASSES: '1' };
    const bootstrap = (email: string, extra: string[] = []) =>
      cli(['users', 'bootstrap-admin', '--email', email, '--password', password, ...extra], env);
    try {
      const missing = await bootstrap('boss@example.com');
      assert.equal(missing.code, 64);
      assert.match(missing.stderr, /needs --database-url or DATABASE_URL/);

      const made = await bootstrap('Boss@Example.com', ['--database-url', users.databaseUrl]);
      assert.equal(made.code, 0, made.stderr);
      assert.match(made.stdout, /^users: boss@example\.com is the first admin \(user [0-9a-f-]{36}\)$/m);
      const again = await bootstrap('boss@example.com', ['--database-url', users.databaseUrl]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /is the first admin already; nothing to do/);
      const other = await bootstrap('usurper@example.com', ['--database-url', users.databaseUrl]);
      assert.equal(other.code, 2);
      assert.match(other.stderr, /refused: an admin exists already/);

      await cli(
        ['users', 'create', '--email', 'dee@example.com', '--name', 'Dee', '--password', password],
        env,
      );
      const dee = JSON.parse(
        (await cli(['login', '--email', 'dee@example.com', '--password', password, '--json'], env)).stdout,
      ) as { userId: string; role: string };
      assert.equal(dee.role, 'customer', 'signing up never grants a role');
      const denied = await cli(['users', 'grant-role', dee.userId, 'admin'], env);
      assert.equal(denied.code, 2);
      assert.match(denied.stderr, /PERMISSION_DENIED/);

      const boss = await cli(['login', '--email', 'boss@example.com', '--password', password], env);
      assert.match(boss.stdout, /\(admin\)/);
      const granted = await cli(['users', 'grant-role', dee.userId, 'admin'], env);
      assert.equal(granted.code, 0, granted.stderr);
      assert.match(granted.stdout, /^granted admin/);
      assert.match(granted.stdout, /role +admin/);
      const revoked = await cli(['users', 'revoke-role', dee.userId, 'admin', '--json'], env);
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.equal((JSON.parse(revoked.stdout) as { role: string }).role, 'ROLE_CUSTOMER');
      const badRole = await cli(['users', 'grant-role', dee.userId, 'root'], env);
      assert.equal(badRole.code, 64);
      assert.match(badRole.stderr, /the one role is admin, not "root"/);
    } finally {
      await rm(state, { recursive: true, force: true });
    }
  });

  it('changes a password, asks for a reset and refuses a bogus code, with clear exits', async () => {
    const state = await mkdtemp(join(tmpdir(), 'conveyor-state-'));
    const env = { ...stopped, USERS_ADDR: users.address, XDG_STATE_HOME: state };
    try {
      await cli(
        ['users', 'create', '--email', 'pat@example.com', '--name', 'Pat', '--password', password],
        env,
      );
      await cli(['login', '--email', 'pat@example.com', '--password', password], env);
      const wrong = await cli(
        ['users', 'change-password', '--current', 'not it at all', '--new', 'pat new password'],
        env,
      );
      assert.equal(wrong.code, 2);
      assert.match(wrong.stderr, /INVALID_ARGUMENT.*current_password: is wrong/);
      const changed = await cli(
        ['users', 'change-password', '--current', password, '--new', 'pat new password'],
        env,
      );
      assert.equal(changed.code, 0, changed.stderr);
      assert.match(changed.stdout, /^password changed; every other session has ended/);
      const me = await cli(['login', '--email', 'pat@example.com', '--password', 'pat new password'], env);
      assert.equal(me.code, 0, me.stderr);
      const asked = await cli(['users', 'request-reset', '--email', 'pat@example.com'], env);
      assert.equal(asked.code, 0, asked.stderr);
      assert.match(asked.stdout, /^if the address has an account, a code is on its way/);
      const bogus = await cli(
        ['users', 'reset-password', '--token', 'bogus', '--password', 'whatever password'],
        env,
      );
      assert.equal(bogus.code, 2);
      assert.match(bogus.stderr, /reset_token: is unknown, used or expired/);
      const usage = await cli(['users', 'reset-password', '--token', 'x'], env);
      assert.equal(usage.code, 64);
    } finally {
      await rm(state, { recursive: true, force: true });
    }
  });
});
