import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { signWebhook, verifyWebhookSignature } from './webhook-signature.ts';

describe('webhook signatures', () => {
  const secret = 'whsec_test';
  const body = '{"id":"e1","type":"user.created"}';

  it('is HMAC-SHA256 over "<timestamp>.<body>", hex, with the timestamp beside it', () => {
    const expected = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    assert.equal(signWebhook(secret, 1_700_000_000, body), `t=1700000000,v1=${expected}`);
  });

  it('verifies within the tolerance and refuses tampering, other secrets and stale timestamps', () => {
    const header = signWebhook(secret, 1_700_000_000, body);
    assert.equal(verifyWebhookSignature(secret, header, body, 1_700_000_100), true);
    assert.equal(verifyWebhookSignature(secret, header, `${body} `, 1_700_000_100), false);
    assert.equal(verifyWebhookSignature('whsec_other', header, body, 1_700_000_100), false);
    assert.equal(verifyWebhookSignature(secret, header, body, 1_700_000_000 + 301), false);
    assert.equal(verifyWebhookSignature(secret, 'garbage', body, 1_700_000_000), false);
  });
});
