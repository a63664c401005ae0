import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { JoseTokenService } from './jose-token-service.ts';
import { loadPreviousKey } from './signing-key.ts';

const now = () => new Date();
const publicPem = (key: ReturnType<typeof generateKeyPairSync>['publicKey']) =>
  key.export({ type: 'spki', format: 'pem' }).toString();

describe('signing key rotation (several kids)', () => {
  const before = generateKeyPairSync('ed25519');
  const after = generateKeyPairSync('ed25519');

  it("keeps the previous key's tokens valid until they expire, signs only with the new one", async () => {
    const old = await JoseTokenService.create({
      privateKey: before.privateKey,
      keyId: 'k1',
      ttlSeconds: 900,
      now,
    });
    const issuedBefore = await old.issue('0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e', 'customer');

    const rotated = await JoseTokenService.create({
      privateKey: after.privateKey,
      keyId: 'k2',
      previous: loadPreviousKey(publicPem(before.publicKey).replace(/\n/g, '\\n'), 'k1'),
      ttlSeconds: 900,
      now,
    });
    assert.equal((await rotated.verify(issuedBefore.token)).subject, '0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e');
    const issuedAfter = await rotated.issue('0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e', 'admin', 2);
    assert.equal(JSON.parse(Buffer.from(issuedAfter.token.split('.')[0]!, 'base64url').toString()).kid, 'k2');
    assert.equal((await rotated.verify(issuedAfter.token)).generation, 2);

    // The JWK set holds both, so a service verifying locally (ADR 0012) accepts both as well.
    const keys = rotated.publicKeys();
    assert.deepEqual(
      keys.map((k) => k.kid),
      ['k2', 'k1'],
    );
    const local = createLocalJWKSet({ keys: keys.map(({ y: _, ...k }) => k) });
    for (const token of [issuedBefore.token, issuedAfter.token]) {
      await jwtVerify(token, local, { algorithms: ['EdDSA'] });
    }

    // Once the previous key is dropped (after the longest token lifetime), its tokens are refused.
    const later = await JoseTokenService.create({
      privateKey: after.privateKey,
      keyId: 'k2',
      ttlSeconds: 900,
      now,
    });
    await assert.rejects(later.verify(issuedBefore.token), /access token rejected: signed by an unknown key/);
  });

  it('refuses half a previous key, a private key and a key of another type, naming the setting', () => {
    assert.deepEqual(loadPreviousKey(undefined, undefined), []);
    assert.throws(() => loadPreviousKey(publicPem(before.publicKey), undefined), /set both .* or neither/);
    assert.throws(
      () => loadPreviousKey('not a pem', 'k1'),
      /USERS_JWT_PREVIOUS_PUBLIC_KEY is not a PEM public key/,
    );
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    assert.throws(() => loadPreviousKey(publicPem(rsa), 'k1'), /is a rsa key: expected Ed25519/);
  });
});
