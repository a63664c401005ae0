import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { createLogger } from './logger.ts';
import { contextFromTraceparent, startTelemetry, withLogContext } from './telemetry.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ service: 'test', destination }) };
}

describe('logger', () => {
  it('redacts passwords, tokens, secrets and authorization headers', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        password: 'hunter2',
        user: { email: 'a@b.c', password: 'pw', token: 'tok' },
        token: 'jwt',
        accessToken: 'at',
        headers: { authorization: 'Bearer x', accept: 'json' },
        secret: 's',
        request: { serviceSecret: 'ss' },
      },
      'sign-in',
    );
    const [line] = lines;
    assert.ok(line);
    const text = JSON.stringify(line);
    for (const secret of ['hunter2', '"pw"', 'tok"', 'jwt', '"at"', 'Bearer x', '"s"', '"ss"']) {
      assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    }
    assert.equal(line.password, '[redacted]');
    assert.deepEqual(line.user, { email: 'a@b.c', password: '[redacted]', token: '[redacted]' });
    assert.deepEqual(line.headers, { authorization: '[redacted]', accept: 'json' });
  });

  it('adds trace_id, span_id and the log context of the active context', () => {
    const { lines, logger } = capture();
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const ctx = withLogContext(contextFromTraceparent(traceparent), { rpc_method: 'x.Y/Z' });
    startTelemetry({ serviceName: 'test', env: {} }); // registers the context manager
    context.with(ctx, () => logger.info('inside'));
    logger.info('outside');
    assert.equal(trace.getSpanContext(ctx)?.traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(lines[0]?.trace_id, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(lines[0]?.span_id, 'b7ad6b7169203331');
    assert.equal(lines[0]?.rpc_method, 'x.Y/Z');
    assert.equal(lines[1]?.trace_id, undefined);
  });
});
