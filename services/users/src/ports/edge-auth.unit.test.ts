import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '@conveyor/platform/errors';
import { Metadata, type ServerUnaryCall } from '@grpc/grpc-js';
import type { TokenClaims } from '../domain/token-claims.ts';
import { authorized, bearerToken, onlyRoles, selfOr } from './edge-auth.ts';

const meta = (value?: string) => {
  const m = new Metadata();
  if (value !== undefined) m.set('authorization', value);
  return m;
};
const claims = (subject: string, role: TokenClaims['role']): TokenClaims => ({
  subject,
  role,
  issuedAt: new Date(0),
  expiresAt: new Date(1),
  tokenId: 't',
});
const tokens: Record<string, TokenClaims> = {
  alice: claims('u-alice', 'customer'),
  admin: claims('u-admin', 'admin'),
  svc: claims('service:notifications', 'service'),
};
const verify = async (token: string) => {
  const found = tokens[token];
  if (!found) throw new AppError('UNAUTHENTICATED', 'access token rejected: malformed');
  return found;
};
const call = (token?: string) =>
  ({ metadata: meta(token === undefined ? undefined : `Bearer ${token}`) }) as ServerUnaryCall<
    { id: string },
    string
  >;

describe('edge authorisation', () => {
  it('reads only well-formed Bearer tokens', () => {
    assert.equal(bearerToken(meta('Bearer abc.def.ghi')), 'abc.def.ghi');
    assert.equal(bearerToken(meta('bearer abc')), 'abc');
    assert.equal(bearerToken(meta('Basic abc')), undefined);
    assert.equal(bearerToken(meta('Bearer')), undefined);
    assert.equal(bearerToken(meta()), undefined);
  });

  const getUser = authorized(
    verify,
    selfOr(['admin', 'service'], (r: { id: string }) => r.id),
    async (r: { id: string }, who) => `${who.subject} read ${r.id}`,
  );

  it('lets the user themselves, admins and services through', async () => {
    assert.equal(await getUser({ id: 'u-alice' }, call('alice')), 'u-alice read u-alice');
    assert.equal(await getUser({ id: 'u-alice' }, call('admin')), 'u-admin read u-alice');
    assert.equal(await getUser({ id: 'u-alice' }, call('svc')), 'service:notifications read u-alice');
  });

  it('answers PERMISSION_DENIED for another customer, UNAUTHENTICATED without a valid token', async () => {
    await assert.rejects(getUser({ id: 'u-bob' }, call('alice')), { code: 'PERMISSION_DENIED' });
    await assert.rejects(getUser({ id: 'u-alice' }, call()), { code: 'UNAUTHENTICATED' });
    await assert.rejects(getUser({ id: 'u-alice' }, call('forged')), { code: 'UNAUTHENTICATED' });
  });

  it('onlyRoles admits just those roles', async () => {
    const reveal = authorized(verify, onlyRoles(['service']), async () => 'ok');
    assert.equal(await reveal({ id: 'x' }, call('svc')), 'ok');
    await assert.rejects(reveal({ id: 'x' }, call('admin')), { code: 'PERMISSION_DENIED' });
  });
});
