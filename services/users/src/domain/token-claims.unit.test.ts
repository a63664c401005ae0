import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { claimsFromPayload, serviceNameOf } from './token-claims.ts';

const base = {
  sub: '0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e',
  role: 'customer',
  iat: 1000,
  exp: 1900,
  jti: 'j1',
};

describe('claims from a verified JWT payload', () => {
  it('maps sub, role, iat, exp, jti and gen (0 when absent: older tokens, service tokens)', () => {
    assert.deepEqual(claimsFromPayload(base), {
      subject: base.sub,
      role: 'customer',
      issuedAt: new Date(1_000_000),
      expiresAt: new Date(1_900_000),
      tokenId: 'j1',
      generation: 0,
    });
    assert.equal(claimsFromPayload({ ...base, gen: 3 })?.generation, 3);
    assert.equal(
      claimsFromPayload({ ...base, sub: 'service:notifications', role: 'service' })?.role,
      'service',
    );
  });

  const bad: [string, Record<string, unknown>][] = [
    ['an unknown role', { ...base, role: 'root' }],
    ['no role', { ...base, role: undefined }],
    ['a service role for a user subject', { ...base, role: 'service' }],
    ['a user role for a service subject', { ...base, sub: 'service:x' }],
    ['no jti', { ...base, jti: undefined }],
    ['exp before iat', { ...base, exp: 999 }],
    ['string times', { ...base, iat: '1000' }],
    ['a negative generation', { ...base, gen: -1 }],
    ['a fractional generation', { ...base, gen: 1.5 }],
    ['a string generation', { ...base, gen: '2' }],
  ];
  for (const [title, payload] of bad) {
    it(`rejects ${title}`, () => assert.equal(claimsFromPayload(payload), undefined));
  }

  it('names the service of a service subject', () => {
    assert.equal(serviceNameOf('service:gateway'), 'gateway');
    assert.equal(serviceNameOf(base.sub), undefined);
  });
});
