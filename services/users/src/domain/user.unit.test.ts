import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { registerUser, validateNewUser } from './user.ts';

const context = { id: '0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e', now: new Date('2026-11-24T09:00:00Z') };

describe('registerUser', () => {
  it('normalises email and name', () => {
    const user = registerUser({ email: '  Ada@Example.COM ', name: '  Ada   Lovelace ' }, context);
    assert.deepEqual(user, {
      id: context.id,
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      createdAt: context.now,
      role: 'customer',
      tokenGeneration: 0,
    });
  });

  it('makes every new user a customer: signing up never grants a role', () => {
    assert.equal(registerUser({ email: 'admin@example.com', name: 'A' }, context).role, 'customer');
  });

  const bad: [string, { email: string; name: string }, RegExp][] = [
    ['missing email', { email: ' ', name: 'A' }, /^email: is required/],
    ['email without @', { email: 'ada.example.com', name: 'A' }, /^email: .* is not an email address/],
    ['email without domain dot', { email: 'ada@localhost', name: 'A' }, /^email: /],
    ['too long email', { email: `${'a'.repeat(250)}@x.io`, name: 'A' }, /^email: must be at most 254/],
    [
      'local part over 64',
      { email: `${'a'.repeat(65)}@x.io`, name: 'A' },
      /^email: .*64 characters before the @/,
    ],
    [
      'domain label over 63',
      { email: `a@${'b'.repeat(64)}.io`, name: 'A' },
      /^email: .*63 characters between dots/,
    ],
    ['missing name', { email: 'a@b.co', name: '' }, /^name: is required/],
    ['too long name', { email: 'a@b.co', name: 'n'.repeat(101) }, /^name: must be at most 100/],
    ['control characters', { email: 'a@b.co', name: 'a\u0007b' }, /^name: must not contain control/],
  ];
  for (const [title, input, message] of bad) {
    it(`rejects ${title}, naming the field`, () => {
      assert.throws(
        () => validateNewUser(input),
        (error: Error & { field?: string }) => {
          assert.match(error.message, message);
          assert.equal(error.field, message.source.slice(1).split(':')[0]);
          return true;
        },
      );
    });
  }
});
