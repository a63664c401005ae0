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
