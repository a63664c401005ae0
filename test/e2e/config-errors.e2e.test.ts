import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { repoRoot } from '@conveyor/stack';

function start(service: string, env: Record<string, string>) {
  const result = spawnSync(process.execPath, [`services/${service}/src/main.ts`], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: result.status, stderr: result.stderr };
}

describe('start-up refuses a bad environment, naming the variable', () => {
  for (const service of ['users', 'orders', 'notifications']) {
    it(`${service}: missing DATABASE_URL, bad GRPC_PORT`, () => {
      const { code, stderr } = start(service, { GRPC_PORT: 'eighty' });
      assert.equal(code, 1);
      assert.match(stderr, /DATABASE_URL is not set/);
      assert.match(stderr, /GRPC_PORT is "eighty"/);
    });
  }

  it('notifications: a malformed CONSUMER_BACKOFF_MS and a non-SMTP SMTP_URL', () => {
    const { code, stderr } = start('notifications', {
      DATABASE_URL: 'postgres://x@127.0.0.1/db',
      CONSUMER_BACKOFF_MS: '1s,2s',
      SMTP_URL: 'http://mail',
    });
    assert.equal(code, 1);
    assert.match(stderr, /CONSUMER_BACKOFF_MS is "1s,2s": expected comma-separated milliseconds/);
    assert.match(stderr, /SMTP_URL is "http:\/\/mail": expected a URL starting with smtp:\/\/ or smtps:\/\//);
  });

  it('users: refuses the removed USERS_ADMIN_EMAILS rather than ignore it (roles are granted, ADR 0021)', () => {
    const { code, stderr } = start('users', {
      DATABASE_URL: 'postgres://x@127.0.0.1/db',
      USERS_ADMIN_EMAILS: 'boss@example.com',
    });
    assert.equal(code, 1);
    assert.match(
      stderr,
      /USERS_ADMIN_EMAILS .*was removed: signing up never makes an admin; run `conveyor users bootstrap-admin`/,
    );
  });

  it('users: an unreachable database is a clear start-up failure, not a hang', () => {
    const { code, stderr } = start('users', {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
      NATS_URL: 'nats://127.0.0.1:1',
      OPS_PORT: '0',
      GRPC_PORT: '0',
    });
    assert.equal(code, 1);
    assert.match(stderr, /cannot connect to NATS at nats:\/\/127.0.0.1:1/);
  });
});
