import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgument } from '@conveyor/platform/errors';
import fc from 'fast-check';
import { validateNewUser } from './user.ts';

describe('user input properties (fast-check)', () => {
  it('any email and name either validate or fail with INVALID_ARGUMENT naming email or name', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.emailAddress()),
        fc.string({ unit: 'binary', maxLength: 150 }),
        (email, name) => {
          try {
            const valid = validateNewUser({ email, name });
            assert.equal(valid.email, valid.email.trim().toLowerCase());
            assert.ok(valid.name.length > 0);
          } catch (error) {
            assert.ok(error instanceof InvalidArgument, `${(error as Error)?.name}`);
            assert.ok(['email', 'name'].includes(error.field));
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
