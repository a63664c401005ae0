import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgument } from '@conveyor/platform/errors';
import { Metadata, status } from '@grpc/grpc-js';
import { problem, toProblem } from './problem.ts';
import { compileRoutes, type Route } from './route.ts';
import { sessionCookie } from './security.ts';

const route = (method: 'GET' | 'POST', path: string) =>
  ({
    method,
    path,
    summary: '',
    tag: 'orders',
    auth: 'none',
    response: 'sse',
    handle: async () => ({}),
  }) as Route;

describe('HTTP edge pieces', () => {
  it('maps gRPC status codes to problem details, keeping the invalid field', () => {
    const metadata = new Metadata();
    metadata.set('invalid-field', 'items');
    const bad = toProblem({ code: status.INVALID_ARGUMENT, details: 'items: must not be empty', metadata });
    assert.deepEqual(bad.body, {
      type: 'https://conveyor.dev/problems/invalid-argument',
      title: 'Bad request',
      status: 400,
      detail: 'items: must not be empty',
      field: 'items',
    });
    const cases: [number, number][] = [
      [status.UNAUTHENTICATED, 401],
      [status.PERMISSION_DENIED, 403],
      [status.NOT_FOUND, 404],
      [status.FAILED_PRECONDITION, 409],
      [status.ALREADY_EXISTS, 409],
      [status.RESOURCE_EXHAUSTED, 429],
      [status.UNAVAILABLE, 503],
      [status.DEADLINE_EXCEEDED, 504],
    ];
    for (const [code, http] of cases) assert.equal(toProblem({ code, details: 'x' }).body.status, http);
    assert.equal(toProblem(new InvalidArgument('email', 'bad')).body.field, 'email');
    assert.equal(toProblem(problem.tooLarge(10)).body.status, 413);
    const internal = toProblem(new Error('secret internals'));
    assert.equal(internal.internal, true);
    assert.equal(internal.body.detail, 'internal error');
  });

  it('routes by template, decodes parameters, and tells allowed methods', () => {
    const router = compileRoutes([route('GET', '/api/orders/{id}'), route('POST', '/api/orders/{id}/pay')]);
    const hit = router.match('GET', '/api/orders/a%2Fb');
    assert.ok(hit && 'route' in hit);
    assert.deepEqual(hit.params, { id: 'a/b' });
    assert.deepEqual(router.match('DELETE', '/api/orders/1'), { allowed: ['GET'] });
    assert.equal(router.match('GET', '/api/orders/1/pay/x'), undefined);
  });

  it('builds HttpOnly SameSite=Strict cookies, Secure only when asked', () => {
    assert.equal(
      sessionCookie('t k', 60.7, false, 's'),
      's=t%20k; Path=/; HttpOnly; SameSite=Strict; Max-Age=60',
    );
    assert.match(sessionCookie('t', 1, true, 's'), /; Secure$/);
  });
});
