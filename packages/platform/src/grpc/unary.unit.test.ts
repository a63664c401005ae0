import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import pino from 'pino';
import { notFound } from '../errors.ts';
import { toServiceError } from './unary.ts';

const logger = pino({ level: 'silent' });
const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('toServiceError', () => {
  it('answers UNAVAILABLE (retry) when Postgres or another dependency is away, not INTERNAL', () => {
    for (const error of [
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      withCode('read ECONNRESET', 'ECONNRESET'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      withCode('terminating connection due to administrator command', '57P01'),
      withCode('the database system is starting up', '57P03'),
      withCode('connection failure', '08006'),
      withCode('sorry, too many clients already', '53300'),
    ]) {
      const answer = toServiceError('Test', logger, error);
      assert.equal(answer.code, status.UNAVAILABLE, error.message);
      assert.equal(answer.details, 'a dependency is unavailable; try again', 'nothing internal leaks');
    }
  });

  it('keeps INTERNAL for everything else, and an AppError’s own status', () => {
    assert.equal(toServiceError('Test', logger, new TypeError('x is undefined')).code, status.INTERNAL);
    assert.equal(toServiceError('Test', logger, withCode('duplicate key', '23505')).code, status.INTERNAL);
    assert.equal(toServiceError('Test', logger, notFound('order o1')).code, status.NOT_FOUND);
  });
});
