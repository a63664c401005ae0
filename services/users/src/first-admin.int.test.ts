import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { migrate } from '@conveyor/platform';
import { repoRoot } from '@conveyor/stack';
import { type TestDatabase, testDatabase } from '@conveyor/stack/testing';
import pg from 'pg';
import { migrations } from './adapters/migrations.ts';
import { makeFirstAdmin } from './first-admin.ts';

const argon2 = { memoryKiB: 8192, passes: 1, parallelism: 1 };
const run = promisify(execFile);

/** The first admin: made once, by whoever holds the database, never over someone's account. */
describe('the first admin (real Postgres)', () => {
  let db: TestDatabase;
  let sql: pg.Pool;

  before(async () => {
    db = await testDatabase('first_admin');
    await migrate({ url: db.url, schema: 'users', migrations });
    sql = new pg.Pool({ connectionString: db.url, options: '-c search_path=users', max: 2 });
  });
  after(async () => {
    await sql?.end();
    await db?.drop();
  });

  it('refuses an address somebody signed up with, so signing up first gains nothing', async () => {
    await sql.query(
      `insert into users (id, email, name, role, created_at, password_hash)
       values ('0192f3a0-0000-7000-8000-0000000000aa', 'boss@example.com', 'Squatter', 'customer', now(), 'x')`,
    );
    const outcome = await makeFirstAdmin(
      { databaseUrl: db.url, argon2 },
      { email: ' Boss@Example.com', name: 'Boss', password: 'the real boss password' },
    );
    assert.deepEqual(outcome, { kind: 'email-taken' });
    const { rows } = await sql.query(`select role from users where email = 'boss@example.com'`);
    assert.deepEqual(rows, [{ role: 'customer' }]);
  });

  it('makes exactly one admin when two operators race', async () => {
    const outcomes = await Promise.all(
      ['one@example.com', 'two@example.com', 'three@example.com'].map((email) =>
        makeFirstAdmin({ databaseUrl: db.url, argon2 }, { email, name: 'Op', password: 'operator password' }),
      ),
    );
    assert.equal(outcomes.filter((o) => o.kind === 'created').length, 1, JSON.stringify(outcomes));
    assert.equal(outcomes.filter((o) => o.kind === 'admin-exists').length, 2);
    const { rows } = await sql.query(`select count(*)::int as n from users where role = 'admin'`);
    assert.equal(rows[0].n, 1);
    const { rows: events } = await sql.query<{ subject: string }>(
      `select subject from outbox order by position`,
    );
    assert.deepEqual(
      events.map((e) => e.subject),
      ['user.created', 'user.role_changed'],
      'one account, one grant',
    );
  });

  it('runs as the operator command: idempotent for the same address, refused for another', async () => {
    const { rows } = await sql.query<{ email: string }>(`select email from users where role = 'admin'`);
    const admin = rows[0]!.email;
    const command = (email: string) =>
      run(process.execPath, ['services/users/src/bootstrap-admin.ts'], {
        cwd: repoRoot,
        env: {
          PATH: process.env.PATH,
          DATABASE_URL: db.url,
          ADMIN_EMAIL: email,
          ADMIN_PASSWORD: 'operator password',
          USERS_ARGON2_MEMORY_KIB: '8192',
          USERS_ARGON2_PASSES: '1',
        },
      }).then(
        ({ stdout }) => ({ code: 0, out: stdout }),
        (error: { code: number; stderr: string }) => ({ code: error.code, out: error.stderr }),
      );
    assert.deepEqual(await command(admin), {
      code: 0,
      out: `users: ${admin} is the first admin already; nothing to do\n`,
    });
    const refused = await command('late@example.com');
    assert.equal(refused.code, 3);
    assert.match(refused.out, /refused: an admin exists already/);
    assert.doesNotMatch(refused.out, new RegExp(admin), 'the refusal does not name the admin');
  });
});
