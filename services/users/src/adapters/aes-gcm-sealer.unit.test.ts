import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { userCreatedV2, userPasswordResetRequestedV1 } from '@conveyor/contracts';
import { AesGcmSealer } from './aes-gcm-sealer.ts';

const sealer = new AesGcmSealer();
const userId = '0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e';
const data = { email: 'ada@example.com', name: 'Ada Lovelace' };

describe('AES-256-GCM sealing of personal data', () => {
  it('round-trips, holds no plaintext and matches user.created v2', () => {
    const key = sealer.newKey();
    const sealed = sealer.seal(key, userId, data);
    assert.match(sealed, /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    // Whole values only: a short run like "ada" can occur in random base64 by chance.
    const bytes = Buffer.from(sealed.split('.')[2] as string, 'base64url');
    for (const plain of [data.email, data.name]) {
      assert.ok(!sealed.includes(plain) && !bytes.includes(Buffer.from(plain)), plain);
    }
    assert.deepEqual(sealer.open(key, userId, sealed), data);
    const event = { userId, personalData: sealed, createdAt: '2026-11-24T09:30:00.000Z' };
    assert.ok(userCreatedV2.schema.safeParse(event).success);
  });

  it('carries a reset code with the contact details, and matches user.password_reset_requested', () => {
    const key = sealer.newKey();
    const withCode = { ...data, resetToken: 'c0de'.repeat(10) };
    const sealed = sealer.seal(key, userId, withCode);
    // The whole code, neither in the text nor in its decoded bytes (a short run could occur by chance).
    const bytes = Buffer.from(sealed.split('.')[2] as string, 'base64url');
    assert.ok(!sealed.includes(withCode.resetToken) && !bytes.includes(Buffer.from(withCode.resetToken)));
    assert.deepEqual(sealer.open(key, userId, sealed), withCode);
    const event = { userId, personalData: sealed, expiresAt: '2026-12-06T10:30:00.000Z' };
    assert.ok(userPasswordResetRequestedV1.schema.safeParse(event).success);
  });

  it('uses a fresh IV each time', () => {
    const key = sealer.newKey();
    assert.notEqual(sealer.seal(key, userId, data), sealer.seal(key, userId, data));
  });

  it('refuses a tampered value, another user, another key and garbage', () => {
    const key = sealer.newKey();
    const sealed = sealer.seal(key, userId, data);
    const [v, iv, body] = sealed.split('.') as [string, string, string];
    const bytes = Buffer.from(body, 'base64url');
    bytes[0]! ^= 1;
    assert.equal(sealer.open(key, userId, `${v}.${iv}.${bytes.toString('base64url')}`), undefined);
    const tag = Buffer.from(body, 'base64url');
    tag[tag.length - 1]! ^= 1;
    assert.equal(sealer.open(key, userId, `${v}.${iv}.${tag.toString('base64url')}`), undefined);
    assert.equal(sealer.open(key, '0192f3a0-7c1e-7b6a-9d0e-000000000000', sealed), undefined);
    assert.equal(sealer.open(sealer.newKey(), userId, sealed), undefined);
    assert.equal(sealer.open(key, userId, 'v2.abc.def'), undefined);
    assert.equal(sealer.open(key, userId, `v1.${iv}.`), undefined);
  });
});
