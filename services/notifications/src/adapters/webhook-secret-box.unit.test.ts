import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebhookSecretBox } from './webhook-secret-box.ts';

const secret = 'whsec_0123456789abcdef0123456789abcdef';
const id = '0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e';

describe('webhook secrets at rest (envelope encryption)', () => {
  const k1 = WebhookSecretBox.newKey();
  const k2 = WebhookSecretBox.newKey();

  it('round-trips and stores no plaintext, bound to its webhook', () => {
    const box = WebhookSecretBox.parse(`k1=${k1}`);
    const stored = box.seal(secret, id);
    assert.match(stored, /^v1\.k1\./);
    assert.ok(!stored.includes(secret) && !stored.includes('whsec'));
    assert.equal(box.open(stored, id), secret);
    assert.notEqual(box.seal(secret, id), stored, 'a fresh data key and IV each time');
    assert.throws(() => box.open(stored, '0192f3a0-0000-7000-8000-000000000000'), 'moved to another row');
    assert.throws(() => box.open(`${stored.slice(0, -2)}AA`, id), 'tampered');
  });

  it('rotates: a new current key opens nothing old until rewrapped, and the old key can then go', () => {
    const old = WebhookSecretBox.parse(`k1=${k1}`);
    const stored = old.seal(secret, id);
    const rotating = WebhookSecretBox.parse(`k2=${k2},k1=${k1}`);
    assert.equal(rotating.open(stored, id), secret, 'the previous key still opens');
    const rewrapped = rotating.rewrap(stored, id);
    assert.ok(rewrapped?.startsWith('v1.k2.'));
    assert.equal(rotating.rewrap(rewrapped as string, id), undefined, 'current already');
    const after = WebhookSecretBox.parse(`k2=${k2}`);
    assert.equal(after.open(rewrapped as string, id), secret);
    assert.throws(
      () => after.open(stored, id),
      /sealed with key k1, which WEBHOOK_SECRET_KEYS no longer has/,
    );
  });

  it('refuses keys that are not 32 bytes or ids it cannot store', () => {
    assert.throws(() => WebhookSecretBox.parse('k1=c2hvcnQ'), /key k1 is not 32 bytes/);
    assert.throws(() => WebhookSecretBox.parse(`a.b=${k1}`), /key id "a.b"/);
    assert.throws(() => new WebhookSecretBox([]), /at least one key/);
  });
});
