import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { rejectsWithCode, timestampMs } from '@conveyor/stack/testing';
import { status } from '@grpc/grpc-js';
import {
  bearer,
  type ContractSystem,
  type Customer,
  rpc,
  SERVICE_SECRET,
  startContractSystem,
} from './contract-system.ts';

interface User {
  id: string;
  email: string;
  name: string;
  role: string;
  created_at: { seconds: string; nanos: number };
}
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

// The UserService contract of proto/conveyor/users/v1/users.proto, through proto-loader clients.
describe('UserService conformance (independent client)', () => {
  let system: ContractSystem;
  let admin: Customer;
  before(async () => {
    system = await startContractSystem('contracts_users');
    admin = await system.signInAdmin();
  });
  after(async () => {
    await system?.stop();
  });
  const create = (request: object) => rpc<{ user?: User }>(system.users, 'CreateUser', request);
  /** Sign-up answers nothing about the account; signing in shows it. */
  const createAndSignIn = async (request: { email: string; name: string; password: string }) => {
    assert.equal((await create(request)).user ?? null, null, 'sign-up answers no user');
    return rpc<{ user: User }>(system.users, 'Authenticate', {
      email: request.email,
      password: request.password,
    });
  };

  describe('CreateUser', () => {
    it('normalises the email, trims the name, answers a customer with a UUIDv7 and a creation time', async () => {
      const local = `Mixed.${randomUUID().slice(0, 8)}`;
      const before = Date.now();
      const { user } = await createAndSignIn({
        email: `  ${local}@Example.COM `,
        name: '  Ada  ',
        password: 'correct horse battery',
      });
      assert.equal(user.email, `${local.toLowerCase()}@example.com`);
      assert.equal(user.name, 'Ada');
      assert.equal(user.role, 'ROLE_CUSTOMER');
      assert.match(user.id, UUID_V7);
      const created = timestampMs(user.created_at);
      assert.ok(created >= before - 1000 && created <= Date.now() + 1000, 'created_at is now');
    });

    it('gives the role admin to a configured admin email', async () => {
      const { user } = await rpc<{ user: User }>(system.users, 'GetUser', { id: admin.id }, admin.metadata);
      assert.equal(user.role, 'ROLE_ADMIN');
    });

    it('answers the same email in another case exactly as a new one, and keeps the first account', async () => {
      const email = `dup-${randomUUID().slice(0, 8)}@example.com`;
      const first = await createAndSignIn({ email, name: 'First', password: 'correct horse battery' });
      const again = await create({
        email: email.toUpperCase(),
        name: 'Second',
        password: 'other horse battery',
      });
      const fresh = await create({ email: `new-${email}`, name: 'Fresh', password: 'correct horse battery' });
      assert.deepEqual(again, fresh);
      const still = await rpc<{ user: User }>(system.users, 'Authenticate', {
        email,
        password: 'correct horse battery',
      });
      assert.deepEqual(still.user, first.user);
      await rejectsWithCode(
        rpc(system.users, 'Authenticate', { email, password: 'other horse battery' }),
        status.UNAUTHENTICATED,
      );
    });

    for (const [label, request, field] of [
      [
        'an email without @',
        { email: 'not-an-email', name: 'N', password: 'correct horse battery' },
        /email/,
      ],
      ['an empty email', { email: '', name: 'N', password: 'correct horse battery' }, /email/],
      [
        'a blank name',
        { email: `n-${randomUUID()}@example.com`, name: '   ', password: 'correct horse battery' },
        /name/,
      ],
      [
        'a name of 101 characters',
        { email: `n-${randomUUID()}@example.com`, name: 'x'.repeat(101), password: 'correct horse battery' },
        /name/,
      ],
      [
        'a password of 11 characters',
        { email: `p-${randomUUID()}@example.com`, name: 'N', password: 'x'.repeat(11) },
        /password/,
      ],
      [
        'a password of 129 characters',
        { email: `p-${randomUUID()}@example.com`, name: 'N', password: 'x'.repeat(129) },
        /password/,
      ],
    ] as const) {
      it(`answers INVALID_ARGUMENT naming the field for ${label}`, async () => {
        await rejectsWithCode(create(request), status.INVALID_ARGUMENT, field);
      });
    }
  });

  describe('Authenticate and VerifyToken', () => {
    it('issues a JWT whose claims VerifyToken returns: subject, role, 15-minute expiry, token id', async () => {
      const customer = await system.signUp();
      assert.equal(customer.token.split('.').length, 3);
      const { claims } = await rpc<{
        claims: { subject: string; role: string; issued_at: never; expires_at: never; token_id: string };
      }>(system.users, 'VerifyToken', { access_token: customer.token });
      assert.equal(claims.subject, customer.id);
      assert.equal(claims.role, 'ROLE_CUSTOMER');
      assert.ok(claims.token_id.length > 0);
      const ttl = timestampMs(claims.expires_at) - timestampMs(claims.issued_at);
      assert.ok(ttl > 0 && ttl <= 15 * 60_000, `ttl ${ttl} ms`);
    });

    it('answers UNAUTHENTICATED with the same message for an unknown email and a wrong password', async () => {
      const customer = await system.signUp();
      const wrong = await rejectsWithCode(
        rpc(system.users, 'Authenticate', { email: customer.email, password: 'not the password' }),
        status.UNAUTHENTICATED,
      );
      const unknown = await rejectsWithCode(
        rpc(system.users, 'Authenticate', {
          email: `nobody-${randomUUID()}@example.com`,
          password: 'not the password',
        }),
        status.UNAUTHENTICATED,
      );
      assert.equal(wrong.details, unknown.details);
    });

    it('answers UNAUTHENTICATED for a garbage and for a tampered token', async () => {
      const customer = await system.signUp();
      await rejectsWithCode(
        rpc(system.users, 'VerifyToken', { access_token: 'garbage' }),
        status.UNAUTHENTICATED,
      );
      const [h, p, s] = customer.token.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
      const forged = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
      await rejectsWithCode(
        rpc(system.users, 'VerifyToken', { access_token: `${h}.${forged}.${s}` }),
        status.UNAUTHENTICATED,
      );
    });

    it('publishes Ed25519 public keys with the issuer and audience', async () => {
      const res = await rpc<{
        keys: { kty: string; crv: string; alg: string; kid: string; x: string }[];
        issuer: string;
        audience: string;
      }>(system.users, 'GetPublicKeys', {});
      assert.equal(res.issuer, 'conveyor-users');
      assert.equal(res.audience, 'conveyor');
      assert.ok(res.keys.length >= 1);
      for (const key of res.keys) {
        assert.deepEqual([key.kty, key.crv, key.alg], ['OKP', 'Ed25519', 'EdDSA']);
        assert.ok(key.kid && key.x);
      }
    });
  });

  describe('IssueServiceToken', () => {
    it('issues a service token for a configured service and secret', async () => {
      const { access_token } = await rpc<{ access_token: string }>(system.users, 'IssueServiceToken', {
        service: 'notifications',
        secret: SERVICE_SECRET,
      });
      const { claims } = await rpc<{ claims: { subject: string; role: string } }>(
        system.users,
        'VerifyToken',
        { access_token },
      );
      assert.equal(claims.subject, 'service:notifications');
      assert.equal(claims.role, 'ROLE_SERVICE');
    });

    it('answers UNAUTHENTICATED for a wrong secret or an unknown service', async () => {
      await rejectsWithCode(
        rpc(system.users, 'IssueServiceToken', { service: 'notifications', secret: 'wrong' }),
        status.UNAUTHENTICATED,
      );
      await rejectsWithCode(
        rpc(system.users, 'IssueServiceToken', { service: 'intruder', secret: SERVICE_SECRET }),
        status.UNAUTHENTICATED,
      );
    });
  });

  describe('GetUser, RevealPersonalData and EraseUser authorisation', () => {
    it('needs a token, lets a customer read only themselves, an admin anyone', async () => {
      const a = await system.signUp();
      const b = await system.signUp();
      await rejectsWithCode(rpc(system.users, 'GetUser', { id: a.id }), status.UNAUTHENTICATED);
      await rejectsWithCode(
        rpc(system.users, 'GetUser', { id: a.id }, bearer('not.a.token')),
        status.UNAUTHENTICATED,
      );
      const own = await rpc<{ user: User }>(system.users, 'GetUser', { id: a.id }, a.metadata);
      assert.equal(own.user.email, a.email);
      await rejectsWithCode(rpc(system.users, 'GetUser', { id: a.id }, b.metadata), status.PERMISSION_DENIED);
      const byAdmin = await rpc<{ user: User }>(system.users, 'GetUser', { id: a.id }, admin.metadata);
      assert.equal(byAdmin.user.id, a.id);
    });

    it('answers INVALID_ARGUMENT naming id for a malformed id and NOT_FOUND for an unknown one', async () => {
      await rejectsWithCode(
        rpc(system.users, 'GetUser', { id: 'nope' }, admin.metadata),
        status.INVALID_ARGUMENT,
        /id/,
      );
      await rejectsWithCode(
        rpc(system.users, 'GetUser', { id: '0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e' }, admin.metadata),
        status.NOT_FOUND,
      );
    });

    it('keeps RevealPersonalData for services', async () => {
      const a = await system.signUp();
      await rejectsWithCode(
        rpc(system.users, 'RevealPersonalData', { user_id: a.id, sealed: 'x' }, a.metadata),
        status.PERMISSION_DENIED,
      );
      await rejectsWithCode(
        rpc(system.users, 'RevealPersonalData', { user_id: a.id, sealed: 'x' }, admin.metadata),
        status.PERMISSION_DENIED,
      );
    });

    it('erases a user (twice is fine); the user is then NOT_FOUND; others may not erase them', async () => {
      const a = await system.signUp();
      const b = await system.signUp();
      await rejectsWithCode(
        rpc(system.users, 'EraseUser', { id: a.id }, b.metadata),
        status.PERMISSION_DENIED,
      );
      const first = await rpc<{ erased_at: never }>(system.users, 'EraseUser', { id: a.id }, a.metadata);
      assert.ok(timestampMs(first.erased_at) <= Date.now() + 1000);
      await rpc(system.users, 'EraseUser', { id: a.id }, admin.metadata);
      await rejectsWithCode(rpc(system.users, 'GetUser', { id: a.id }, admin.metadata), status.NOT_FOUND);
    });
  });
});
