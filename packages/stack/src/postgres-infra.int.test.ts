import assert from 'node:assert/strict';
import { once } from 'node:events';
import { lstat, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { freePort } from './net-utils.ts';
import {
  createDatabase,
  DEFAULT_POSTGRES_URL,
  dropDatabase,
  ensurePostgres,
  probePostgres,
  startEmbeddedPostgres,
} from './postgres-infra.ts';

const adminUrl = process.env.CONVEYOR_TEST_DATABASE_URL ?? DEFAULT_POSTGRES_URL;
const noServer = !(await probePostgres(adminUrl));

async function selectOne(url: string, sql: string): Promise<unknown> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows[0];
  } finally {
    await client.end();
  }
}

/** Whether the database 'kept', made before a restart, is there after it. */
async function keptExists(url: string): Promise<boolean> {
  const row = await selectOne(url, "select count(*)::int as n from pg_database where datname = 'kept'");
  return (row as { n: number }).n === 1;
}

describe('postgres-infra', () => {
  it('probes reachable and unreachable servers', async () => {
    assert.equal(
      await probePostgres(`postgres://postgres@127.0.0.1:${await freePort()}/postgres`, 500),
      false,
    );
    assert.equal(await probePostgres('not a url', 500), false);
  });

  it('creates and drops a database on the configured server', {
    skip: noServer && 'no PostgreSQL at the test URL',
  }, async () => {
    const name = `t_infra_${process.pid}_${Date.now()}`;
    const url = await createDatabase(adminUrl, name);
    try {
      assert.equal(new URL(url).pathname, `/${name}`);
      assert.equal(await createDatabase(adminUrl, name), url);
      assert.deepEqual(await selectOne(url, 'select current_database() as db'), { db: name });
    } finally {
      await dropDatabase(adminUrl, name);
    }
    await dropDatabase(adminUrl, name);
    assert.equal(await probePostgres(url, 1000), false);
  });

  it('drops a database right after its pool ended without forcing off the sessions still leaving', {
    skip: noServer && 'no PostgreSQL at the test URL',
  }, async () => {
    const name = `t_infra_leaving_${process.pid}_${Date.now()}`;
    const url = await createDatabase(adminUrl, name);
    const pool = new pg.Pool({ connectionString: url, max: 40 });
    const errors: string[] = [];
    pool.on('error', (error) => errors.push(error.message));
    // A forced-off session's error arrives before its connection ends: wait for every end.
    const ended: Promise<unknown>[] = [];
    pool.on('connect', (client) => ended.push(once(client, 'end')));
    await Promise.all(Array.from({ length: 40 }, () => pool.query('select pg_sleep(0.01)')));
    await pool.end(); // resolves before its forty connections have closed
    await dropDatabase(adminUrl, name);
    await Promise.all(ended);
    assert.deepEqual(errors, []);
  });

  it('starts embedded Postgres, reuses its data on a second start', { timeout: 180_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'conveyor-pg-'));
    const dataDir = join(dir, 'data');
    const port = await freePort();
    try {
      const first = await startEmbeddedPostgres({ dataDir, port });
      try {
        assert.equal(first.url, `postgres://postgres:postgres@127.0.0.1:${port}/postgres`);
        await createDatabase(first.url, 'kept');
      } finally {
        await first.stop();
      }
      assert.equal(await probePostgres(first.url, 500), false);
      assert.ok((await stat(join(dataDir, 'PG_VERSION'))).isFile());

      const lines: string[] = [];
      const second = await ensurePostgres({
        url: `postgres://postgres@127.0.0.1:${await freePort()}/postgres`,
        dataDir,
        port,
        log: (line) => lines.push(line),
      });
      try {
        assert.equal(second.started, true);
        assert.ok(!lines.some((line) => line.includes('initialising')));
        assert.ok(await keptExists(second.url));
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps the WAL where walDir says, and starts again on its data after a SIGKILL (crash recovery)', {
    timeout: 180_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'conveyor-pg-'));
    const options = { dataDir: join(dir, 'data'), walDir: join(dir, 'wal'), port: await freePort() };
    try {
      const first = await startEmbeddedPostgres(options);
      try {
        await createDatabase(first.url, 'kept');
        assert.ok((await lstat(join(options.dataDir, 'pg_wal'))).isSymbolicLink());
        assert.ok((await readdir(options.walDir)).some((f) => /^[0-9A-F]{24}$/.test(f)));
      } finally {
        await first.kill();
      }
      assert.equal(await first.exited, null);
      const second = await startEmbeddedPostgres(options);
      try {
        assert.ok(await keptExists(second.url));
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('explains a failed embedded start with the server log', { timeout: 180_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'conveyor-pg-'));
    const blocker = createServer().listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as AddressInfo).port;
    try {
      await assert.rejects(startEmbeddedPostgres({ dataDir: join(dir, 'data'), port }), (error: Error) => {
        assert.match(error.message, /embedded Postgres on 127\.0\.0\.1:\d+ .*exited early/);
        assert.match(error.message, /could not (bind|create)/i);
        return true;
      });
    } finally {
      blocker.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ensurePostgres uses a reachable server without starting one', {
    skip: noServer && 'no PostgreSQL at the test URL',
  }, async () => {
    const ensured = await ensurePostgres({ url: adminUrl, dataDir: '/nonexistent', port: 1, log: () => {} });
    assert.equal(ensured.started, false);
    assert.equal(ensured.url, adminUrl);
    await ensured.stop();
  });
});
