import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgument } from '@conveyor/platform/errors';
import { validatePassword } from './password-policy.ts';

describe('password policy', () => {
  it('accepts 12 to 128 characters, counted as code points', () => {
    assert.equal(validatePassword('a'.repeat(12)), 'a'.repeat(12));
    assert.equal(validatePassword('a'.repeat(128)), 'a'.repeat(128));
    assert.equal(validatePassword('🔑'.repeat(12)), '🔑'.repeat(12)); // 24 UTF-16 units, 12 characters
  });

  const bad: [string, string, RegExp][] = [
    ['empty', '', /^password: is required$/],
    ['11 characters', 'secret-pw-1', /^password: must be at least 12 characters$/],
    ['129 characters', 'x'.repeat(129), /^password: must be at most 128 characters$/],
    ['6 emoji (12 UTF-16 units)', '🔑'.repeat(6), /^password: must be at least 12/],
  ];
  for (const [title, password, message] of bad) {
    it(`rejects ${title} with INVALID_ARGUMENT naming password, never echoing it`, () => {
      assert.throws(
        () => validatePassword(password),
        (error: unknown) => {
          assert.ok(error instanceof InvalidArgument);
          assert.equal(error.field, 'password');
          assert.match(error.message, message);
          if (password.length > 0) assert.ok(!error.message.includes(password));
          return true;
        },
      );
    });
  }
});
