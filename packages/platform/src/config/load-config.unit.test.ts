import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError, env, loadConfig } from './load-config.ts';

describe('loadConfig', () => {
  const shape = {
    DATABASE_URL: env.url(['postgres', 'postgresql']),
    GRPC_PORT: env.port(50051),
    MODE: z.enum(['a', 'b']).default('a'),
  };

  it('applies defaults and coerces numbers', () => {
    const config = loadConfig(shape, { DATABASE_URL: 'postgres://x@h/db', GRPC_PORT: '7000' });
    assert.deepEqual(config, { DATABASE_URL: 'postgres://x@h/db', GRPC_PORT: 7000, MODE: 'a' });
  });

  it('names every bad or missing variable', () => {
    const error = (() => {
      try {
        loadConfig(shape, { GRPC_PORT: '70000', MODE: 'c' });
      } catch (e) {
        return e;
      }
    })();
    assert.ok(error instanceof ConfigError);
    assert.equal(error.problems.length, 3);
    assert.match(error.message, /DATABASE_URL is not set/);
    assert.match(error.message, /GRPC_PORT is "70000"/);
    assert.match(error.message, /MODE is "c"/);
  });

  it('rejects a URL with the wrong scheme', () => {
    assert.throws(() => loadConfig(shape, { DATABASE_URL: 'mysql://h/db' }), /DATABASE_URL .*postgres:\/\//);
  });
});

describe('env.urlList', () => {
  it('accepts one URL or a comma-separated list, and names the variable otherwise', () => {
    const shape = { NATS_URL: env.urlList(['nats'], 'nats://127.0.0.1:4222') };
    assert.equal(loadConfig(shape, {}).NATS_URL, 'nats://127.0.0.1:4222');
    assert.equal(
      loadConfig(shape, { NATS_URL: 'nats://a:4222, nats://b:4222' }).NATS_URL,
      'nats://a:4222, nats://b:4222',
    );
    assert.throws(
      () => loadConfig(shape, { NATS_URL: 'nats://a:4222,http://b' }),
      /NATS_URL is "nats:\/\/a:4222,http:\/\/b"/,
    );
  });
});

describe('env.duration', () => {
  const shape = { TIMEOUT: env.duration('30m') };
  const parse = (value?: string) => loadConfig(shape, value === undefined ? {} : { TIMEOUT: value }).TIMEOUT;

  it('reads a number with its unit as milliseconds, off or 0 as 0, and applies the default', () => {
    assert.equal(parse(), 30 * 60_000);
    assert.equal(parse('250ms'), 250);
    assert.equal(parse('90s'), 90_000);
    assert.equal(parse(' 2h '), 7_200_000);
    assert.equal(parse('off'), 0);
    assert.equal(parse('0'), 0);
  });

  it('refuses a number without a unit, a fraction or an unknown unit, naming the variable', () => {
    for (const bad of ['30', '1.5m', '10d', '-5s', 'soon'])
      assert.throws(() => parse(bad), /TIMEOUT is .*expected a duration such as 500ms/);
  });
});
