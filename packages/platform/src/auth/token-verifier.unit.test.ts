import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { exportJWK, generateKeyPair, type JWK, SignJWT, UnsecuredJWT } from 'jose';
import { pino } from 'pino';
import { AppError } from '../errors.ts';
import { Downstream } from '../resilience/downstream.ts';
import { authenticated, requireOwnerOrAdmin } from './authorize.ts';
import { bearerToken } from './bearer-token.ts';
import type { PublicKeySet } from './local-token-verifier.ts';
import type { Principal } from './principal.ts';
import { UsersTokenVerifier } from './token-verifier.ts';
import type { UsersAuthApi } from './users-auth-api.ts';

const logger = pino({ level: 'silent' });
const issuer = 'conveyor-users';
const audience = 'conveyor';
const down = () => Object.assign(new Error('14 UNAVAILABLE: connect ECONNREFUSED'), { code: 14 });

async function signingKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA' };
  const sign = (claims: {
    sub?: string;
    role?: string;
    iss?: string;
    aud?: string;
    expIn?: number;
    gen?: number;
  }) =>
    new SignJWT({ role: claims.role ?? 'customer', ...(claims.gen ? { gen: claims.gen } : {}) })
      .setProtectedHeader({ alg: 'EdDSA', kid })
      .setSubject(claims.sub ?? '0190a000-0000-7000-8000-000000000001')
      .setIssuer(claims.iss ?? issuer)
      .setAudience(claims.aud ?? audience)
      .setJti(crypto.randomUUID())
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + (claims.expIn ?? 900))
      .sign(privateKey);
  return { jwk, sign };
}

/** A scripted users service: `up` decides whether it answers at all. */
function fakeUsers(keys: () => JWK[]) {
  const state = { up: true, verifyCalls: 0, keyCalls: 0 };
  const api: UsersAuthApi = {
    async verifyToken(token) {
      state.verifyCalls++;
      if (!state.up) throw down();
      const payload = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString());
      return {
        subject: payload.sub,
        role: payload.role,
        tokenId: payload.jti,
        expiresAt: new Date(payload.exp * 1000),
      };
    },
    async publicKeys() {
      state.keyCalls++;
      if (!state.up) throw down();
      return { keys: keys(), issuer, audience } satisfies PublicKeySet;
    },
    close() {},
  };
  return { api, state };
}

function verifier(api: UsersAuthApi, cacheTtlMs = 30_000) {
  const downstream = new Downstream(
    'users',
    { maxAttempts: 2, baseDelayMs: 0, maxDelayMs: 0, consecutiveFailures: 100 },
    { logger },
  );
  return new UsersTokenVerifier({ api, downstream, logger }, { cacheTtlMs });
}

/** A verifier started once, its key refresh stopped: it keeps the keys users gave at start, if any. */
async function startedVerifier(api: UsersAuthApi, cacheTtlMs = 0) {
  const v = verifier(api, cacheTtlMs);
  await v.start();
  v.stop();
  return v;
}

describe('UsersTokenVerifier', () => {
  it('asks the users service, then reuses its verdict from the cache', async () => {
    const key = await signingKey('k1');
    const { api, state } = fakeUsers(() => [key.jwk]);
    const v = verifier(api);
    const token = await key.sign({ role: 'admin' });
    assert.equal((await v.verify(token)).role, 'admin');
    assert.equal((await v.verify(token)).role, 'admin');
    assert.equal(state.verifyCalls, 1);
  });

  it('passes UNAUTHENTICATED from the users service through, without local fallback', async () => {
    const key = await signingKey('k1');
    const { api } = fakeUsers(() => [key.jwk]);
    api.verifyToken = async () => {
      throw new AppError('UNAUTHENTICATED', 'user erased');
    };
    const v = await startedVerifier(api, 30_000);
    await assert.rejects(v.verify(await key.sign({})), { code: 'UNAUTHENTICATED', message: 'user erased' });
  });

  it('verifies locally with cached keys only while the users service is unavailable', async () => {
    const key = await signingKey('k1');
    const { api, state } = fakeUsers(() => [key.jwk]);
    const v = await startedVerifier(api);
    state.up = false;
    const principal = await v.verify(await key.sign({ sub: 'u-1', role: 'customer' }));
    assert.deepEqual([principal.subject, principal.role], ['u-1', 'customer']);
    assert.equal(state.verifyCalls, 2, 'the idempotent VerifyToken was retried first');
  });

  it('keeps refusing, during an outage, what users refused or revoked before it', async () => {
    const key = await signingKey('k1');
    const { api, state } = fakeUsers(() => [key.jwk]);
    const refused = new Set<string>();
    const answer = api.verifyToken.bind(api);
    api.verifyToken = async (token, deadlineMs) => {
      if (state.up && refused.has(token))
        throw new AppError('UNAUTHENTICATED', 'access token revoked: sign in again');
      return answer(token, deadlineMs);
    };
    const v = await startedVerifier(api);
    const signedOut = await key.sign({ sub: 'u-1', gen: 0 });
    const other = await key.sign({ sub: 'u-2' });
    refused.add(signedOut);
    await assert.rejects(v.verify(signedOut), { code: 'UNAUTHENTICATED' });
    const older = await key.sign({ sub: 'u-3', gen: 1 });
    assert.equal(
      (await v.verify(await key.sign({ sub: 'u-3', gen: 2 }))).subject,
      'u-3',
      'a newer session seen',
    );

    state.up = false;
    await assert.rejects(v.verify(signedOut), { code: 'UNAUTHENTICATED', message: /refused by users/ });
    await assert.rejects(v.verify(older), { code: 'UNAUTHENTICATED', message: /revoked: a later sign-out/ });
    assert.equal((await v.verify(other)).subject, 'u-2', 'others still verify locally');
  });

  it('rejects alg none, HS256, tampered, expired, wrong issuer and wrong audience tokens locally', async () => {
    const key = await signingKey('k1');
    const { api, state } = fakeUsers(() => [key.jwk]);
    const v = await startedVerifier(api);
    state.up = false;
    const good = await key.sign({});
    const [h, p, s] = good.split('.') as [string, string, string];
    const forged = JSON.parse(Buffer.from(p, 'base64url').toString());
    forged.role = 'admin';
    const tampered = `${h}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${s}`;
    const none = new UnsecuredJWT({ role: 'admin' })
      .setSubject('x')
      .setIssuer(issuer)
      .setAudience(audience)
      .setExpirationTime('5m')
      .encode();
    const hs = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setSubject('x')
      .setIssuer(issuer)
      .setAudience(audience)
      .setJti('j')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('a-shared-secret-of-enough-length-000'));
    const bad = {
      none,
      hs,
      tampered,
      expired: await key.sign({ expIn: -10 }),
      issuer: await key.sign({ iss: 'someone-else' }),
      audience: await key.sign({ aud: 'elsewhere' }),
    };
    for (const [name, token] of Object.entries(bad)) {
      await assert.rejects(v.verify(token), { code: 'UNAUTHENTICATED' }, `${name} must be rejected`);
    }
    assert.equal((await v.verify(good)).role, 'customer');
  });

  it('refuses locally an algorithm users never issues (ES256), even with a matching key in the set', async () => {
    const key = await signingKey('k1');
    const ec = await generateKeyPair('ES256');
    const ecJwk: JWK = { ...(await exportJWK(ec.publicKey)), kid: 'ec1', alg: 'ES256' };
    const { api, state } = fakeUsers(() => [key.jwk, ecJwk]);
    const v = await startedVerifier(api);
    state.up = false;
    const es256 = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'ES256', kid: 'ec1' })
      .setSubject('0190a000-0000-7000-8000-000000000001')
      .setIssuer(issuer)
      .setAudience(audience)
      .setJti('j')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(ec.privateKey);
    await assert.rejects(v.verify(es256), { code: 'UNAUTHENTICATED' });
    assert.equal((await v.verify(await key.sign({}))).role, 'customer');
  });

  it('fails with UNAVAILABLE naming users when it has no keys to fall back on', async () => {
    const key = await signingKey('k1');
    const { api, state } = fakeUsers(() => [key.jwk]);
    state.up = false;
    const v = verifier(api);
    await assert.rejects(v.verify(await key.sign({})), (e: AppError) => {
      assert.equal(e.code, 'UNAVAILABLE');
      assert.match(e.message, /users service .*no public keys cached/);
      return true;
    });
  });

  it('fetches the keys after the first answer when users was down at start', async () => {
    const key = await signingKey('k1');
    const { api, state } = fakeUsers(() => [key.jwk]);
    state.up = false;
    const v = await startedVerifier(api);
    assert.equal(v.hasKeys, false);
    state.up = true;
    await v.verify(await key.sign({}));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(v.hasKeys, true);
    state.up = false;
    assert.equal(
      (await v.verify(await key.sign({ sub: 'u-3' }))).subject,
      'u-3',
      'local fallback now possible',
    );
  });

  it('refetches the keys once for an unknown kid (key rotation)', async () => {
    const old = await signingKey('k1');
    const rotated = await signingKey('k2');
    let published = [old.jwk];
    const { api, state } = fakeUsers(() => published);
    const v = await startedVerifier(api);
    published = [old.jwk, rotated.jwk];
    api.verifyToken = async () => {
      throw down();
    };
    const before = state.keyCalls;
    assert.equal((await v.verify(await rotated.sign({ sub: 'u-2' }))).subject, 'u-2');
    assert.equal(state.keyCalls, before + 1);
    const stranger = await signingKey('k3');
    await assert.rejects(v.verify(await stranger.sign({})), { code: 'UNAUTHENTICATED' });
  });
});

describe('edge helpers', () => {
  it('bearerToken demands "authorization: Bearer <token>"', () => {
    const md = new Metadata();
    assert.throws(() => bearerToken(md), { code: 'UNAUTHENTICATED', message: /missing access token/ });
    md.set('authorization', 'Basic abc');
    assert.throws(() => bearerToken(md), { code: 'UNAUTHENTICATED' });
    md.set('authorization', 'Bearer a.b.c');
    assert.equal(bearerToken(md), 'a.b.c');
  });

  it('authenticated runs the handler only for a verified caller', async () => {
    const principal: Principal = { subject: 'u', role: 'customer', tokenId: 't', expiresAt: new Date() };
    let ran = 0;
    const handler = authenticated({ verify: async () => principal }, async (_r: unknown, p) => {
      ran++;
      return p.subject;
    });
    await assert.rejects(handler({}, { metadata: new Metadata() }), { code: 'UNAUTHENTICATED' });
    assert.equal(ran, 0);
    const md = new Metadata();
    md.set('authorization', 'Bearer x.y.z');
    assert.equal(await handler({}, { metadata: md }), 'u');
  });

  it('requireOwnerOrAdmin lets owners and admins through only', () => {
    const as = (role: Principal['role'], subject = 'a'): Principal => ({
      subject,
      role,
      tokenId: 't',
      expiresAt: new Date(),
    });
    requireOwnerOrAdmin(as('customer'), 'a', 'order 1');
    requireOwnerOrAdmin(as('admin', 'z'), 'a', 'order 1');
    assert.throws(() => requireOwnerOrAdmin(as('customer', 'b'), 'a', 'order 1'), {
      code: 'PERMISSION_DENIED',
    });
    assert.throws(() => requireOwnerOrAdmin(as('service', 'service:x'), 'a', 'order 1'), {
      code: 'PERMISSION_DENIED',
    });
  });
});
