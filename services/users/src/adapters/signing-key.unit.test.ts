import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigError, type Pool } from '@conveyor/platform';
import { pino } from 'pino';
import { loadSigningKey } from './signing-key.ts';

const noPool = {
  query: () => {
    throw new Error('the database must not be used');
  },
} as unknown as Pool;
const logger = pino({ level: 'silent' });
const pem = (type: 'ed25519' | 'rsa') =>
  (type === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 1024 })
    : generateKeyPairSync('ed25519')
  ).privateKey
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();

describe('signing key from configuration', () => {
  it('uses a configured Ed25519 key (newlines may be escaped) with its key id', async () => {
    const key = await loadSigningKey({
      pem: pem('ed25519').replace(/\n/g, '\\n'),
      keyId: 'k1',
      production: true,
      pool: noPool,
      logger,
    });
    assert.equal(key.keyId, 'k1');
    assert.equal(key.privateKey.asymmetricKeyType, 'ed25519');
  });

  const bad: [string, Parameters<typeof loadSigningKey>[0], RegExp][] = [
    [
      'no key in production',
      { pem: undefined, keyId: undefined, production: true, pool: noPool, logger },
      /USERS_JWT_PRIVATE_KEY is not set: required in production/,
    ],
    [
      'a key without id',
      { pem: pem('ed25519'), keyId: undefined, production: false, pool: noPool, logger },
      /USERS_JWT_KEY_ID is not set/,
    ],
    [
      'an RSA key',
      { pem: pem('rsa'), keyId: 'k', production: false, pool: noPool, logger },
      /is a rsa key: expected Ed25519/,
    ],
    [
      'not a PEM',
      { pem: 'secret-material-xyz', keyId: 'k', production: false, pool: noPool, logger },
      /is not a PKCS#8 PEM private key/,
    ],
  ];
  for (const [title, options, message] of bad) {
    it(`refuses ${title}, naming the variable and never echoing the key`, async () => {
      await assert.rejects(loadSigningKey(options), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, message);
        assert.ok(!error.message.includes('secret-material') && !error.message.includes('PRIVATE KEY-----'));
        return true;
      });
    });
  }
});
