import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { wiringEnv } from '../system.ts';
import { formatEndpoints } from './endpoints.ts';
import { launcherConfig } from './launcher-config.ts';
import { repoRoot } from './repo-root.ts';

describe('launcherConfig', () => {
  it('uses the defaults', () => {
    const config = launcherConfig({});
    assert.equal(config.home, join(repoRoot, '.conveyor'));
    assert.equal(config.postgresUrl, 'postgres://postgres@127.0.0.1:5432/postgres');
    assert.equal(config.database, 'conveyor');
    assert.equal(config.natsUrl, 'nats://127.0.0.1:4222');
    assert.deepEqual([config.smtpPort, config.smtpWebPort], [1025, 8025]);
    const users = config.services.find((s) => s.entry.name === 'users');
    assert.deepEqual([users?.grpcPort, users?.opsPort], [50051, 9101]);
    assert.equal(config.stopGraceMs, 15_000);
  });

  it('reads overrides for state, infrastructure and every port', () => {
    const config = launcherConfig({
      CONVEYOR_HOME: '/tmp/x',
      CONVEYOR_DATABASE: 't_abc',
      DATABASE_URL: 'postgres://a@h:1/db',
      NATS_URL: 'nats://h:2',
      SMTP_PORT: '2525',
      SMTP_WEB_PORT: '8026',
      USERS_GRPC_PORT: '6001',
      USERS_OPS_PORT: '6002',
      SHUTDOWN_GRACE_MS: '2000',
    });
    assert.equal(config.home, '/tmp/x');
    assert.equal(config.database, 't_abc');
    assert.equal(config.postgresUrl, 'postgres://a@h:1/db');
    assert.equal(config.natsUrl, 'nats://h:2');
    assert.deepEqual([config.smtpPort, config.smtpWebPort], [2525, 8026]);
    const users = config.services.find((s) => s.entry.name === 'users');
    assert.deepEqual([users?.grpcPort, users?.opsPort], [6001, 6002]);
    assert.equal(config.stopGraceMs, 7000);
  });

  it('rejects bad ports and database names, naming the variable', () => {
    assert.throws(
      () => launcherConfig({ USERS_GRPC_PORT: 'x' }),
      /USERS_GRPC_PORT is "x": expected a TCP port/,
    );
    assert.throws(() => launcherConfig({ SMTP_PORT: '70000' }), /SMTP_PORT/);
    assert.throws(() => launcherConfig({ CONVEYOR_DATABASE: 'a;drop' }), /CONVEYOR_DATABASE/);
  });
});

describe('formatEndpoints', () => {
  it('lists services, infrastructure and what to try next', () => {
    const text = formatEndpoints(
      {
        startedAt: '2026-01-01T00:00:00.000Z',
        pid: 1,
        status: 'running',
        services: { users: { grpc: '127.0.0.1:50051', ops: 'http://127.0.0.1:9101' } },
        postgres: 'postgres://postgres:***@127.0.0.1:54329/conveyor',
        nats: 'nats://127.0.0.1:4222',
        smtp: { smtp: '127.0.0.1:1025', web: 'http://127.0.0.1:8025' },
        webhookSink: 'http://127.0.0.1:9999',
      },
      { postgres: 'embedded', nats: 'already running', stackFile: '.conveyor/stack.json', readySeconds: 2 },
    );
    assert.match(text, /Conveyor is up: 1 service ready in 2\.0 s/);
    assert.match(text, /^ {2}users +127\.0\.0\.1:50051 +http:\/\/127\.0\.0\.1:9101$/m);
    assert.match(
      text,
      /^ {2}postgres +postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:54329\/conveyor +embedded$/m,
    );
    assert.match(text, /^ {2}smtp sink +smtp:\/\/127\.0\.0\.1:1025 +web UI http:\/\/127\.0\.0\.1:8025$/m);
    assert.match(text, /^ {2}webhook sink +http:\/\/127\.0\.0\.1:9999 +conveyor webhooks sink$/m);
    assert.match(text, /users create --email ada@example\.com --name "Ada Lovelace"/);
    assert.doesNotMatch(text, / +$/m);
  });
});

describe('the gateway in the launcher', () => {
  it('gets its HTTP port from GATEWAY_PORT and the addresses and ops URLs of the services it calls', () => {
    const config = launcherConfig({ GATEWAY_PORT: '8181' });
    const gateway = config.services.find((s) => s.entry.name === 'gateway');
    assert.equal(gateway?.grpcPort, 8181);
    const env = wiringEnv('gateway', running(config));
    assert.equal(env.ORDERS_ADDR, '127.0.0.1:50052');
    assert.equal(env.ORDERS_OPS_URL, 'http://127.0.0.1:9102');
    assert.equal(wiringEnv('orders', running(config)).USERS_OPS_URL, undefined);
  });

  it('gives every service but users the users address, for token verification (ADR 0012)', () => {
    const config = launcherConfig({});
    const usersAddr = (name: string) => wiringEnv(name, running(config)).USERS_ADDR;
    for (const name of ['orders', 'notifications', 'gateway'])
      assert.equal(usersAddr(name), '127.0.0.1:50051');
    assert.equal(usersAddr('users'), undefined);
  });

  it('prints the web console URL', () => {
    const text = formatEndpoints(
      { startedAt: '', pid: 1, status: 'running', services: {}, web: { gateway: 'http://127.0.0.1:8080' } },
      { postgres: '', nats: '', stackFile: 'stack.json', readySeconds: 1 },
    );
    assert.match(text, /^ {2}gateway +http:\/\/127\.0\.0\.1:8080 +web console/m);
    assert.match(text, /open http:\/\/127\.0\.0\.1:8080 in a browser/);
  });
});

/** The launcher's planned services as running on their configured ports. */
function running(config: ReturnType<typeof launcherConfig>) {
  return new Map(
    config.services.map((s) => [
      s.entry.name,
      { address: `127.0.0.1:${s.grpcPort}`, opsUrl: `http://127.0.0.1:${s.opsPort}` },
    ]),
  );
}
