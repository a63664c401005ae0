import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { encodePhc, parsePhc } from './phc-string.ts';

const sample = {
  memoryKiB: 19_456,
  passes: 2,
  parallelism: 1,
  salt: new Uint8Array(16).fill(7),
  hash: new Uint8Array(32).fill(9),
};

describe('PHC strings for Argon2id', () => {
  it('encodes parameters, salt and hash in the standard layout', () => {
    assert.equal(
      encodePhc(sample),
      '$argon2id$v=19$m=19456,t=2,p=1$BwcHBwcHBwcHBwcHBwcHBw$CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk',
    );
  });

  it('round-trips any parameters, salt and hash', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 64, max: 1_048_576 }),
        fc.uint8Array({ minLength: 8, maxLength: 64 }),
        fc.uint8Array({ minLength: 16, maxLength: 64 }),
        (parallelism, passes, memoryKiB, salt, hash) => {
          const parsed = parsePhc(encodePhc({ memoryKiB, passes, parallelism, salt, hash }));
          assert.deepEqual(parsed, { memoryKiB, passes, parallelism, salt, hash });
        },
      ),
    );
  });

  const bad: [string, string][] = [
    ['argon2i', encodePhc(sample).replace('argon2id', 'argon2i')],
    ['another version', encodePhc(sample).replace('v=19', 'v=16')],
    ['missing hash', encodePhc(sample).split('$').slice(0, 5).join('$')],
    ['zero passes', encodePhc(sample).replace('t=2', 't=0')],
    ['a short salt', encodePhc({ ...sample, salt: new Uint8Array(4) })],
    ['bad base64', `${encodePhc(sample)}!`],
    ['bcrypt', '$2b$12$abcdefghijklmnopqrstuuAbcdefghijklmnopqrstuvwxyz01234'],
  ];
  for (const [title, phc] of bad) {
    it(`rejects ${title} without echoing the input`, () => {
      assert.throws(
        () => parsePhc(phc),
        (error: Error) => !error.message.includes(phc.slice(-20)),
      );
    });
  }
});
