import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Principal } from './principal.ts';
import { TokenCache } from './token-cache.ts';

const principal = (expiresAtMs: number): Principal => ({
  subject: 'u',
  role: 'customer',
  tokenId: 't',
  expiresAt: new Date(expiresAtMs),
});

describe('TokenCache', () => {
  it('keeps a verdict for the TTL, never past the token’s expiry', () => {
    let now = 1_000_000;
    const cache = new TokenCache({ ttlMs: 30_000, maxEntries: 10, now: () => now });
    cache.set('long', principal(now + 900_000));
    cache.set('short', principal(now + 5_000));
    now += 4_999;
    assert.ok(cache.get('short'));
    now += 1;
    assert.equal(cache.get('short'), undefined, 'expired token gone although the TTL has not passed');
    now += 25_000 - 1;
    assert.ok(cache.get('long'));
    now += 1;
    assert.equal(cache.get('long'), undefined, 'TTL over');
  });

  it('holds at most maxEntries, evicting the oldest, and nothing with TTL 0 or an expired token', () => {
    const now = 0;
    const cache = new TokenCache({ ttlMs: 30_000, maxEntries: 2, now: () => now });
    cache.set('a', principal(60_000));
    cache.set('b', principal(60_000));
    cache.set('c', principal(60_000));
    assert.equal(cache.size, 2);
    assert.equal(cache.get('a'), undefined);
    assert.ok(cache.get('b') && cache.get('c'));
    cache.set('dead', principal(0));
    assert.equal(cache.get('dead'), undefined);
    const off = new TokenCache({ ttlMs: 0, maxEntries: 2, now: () => now });
    off.set('a', principal(60_000));
    assert.equal(off.size, 0);
  });
});
