import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { usersV1 } from '@conveyor/contracts';
import { callUnary, insecure, migrate } from '@conveyor/platform';
import { waitUntil } from '@conveyor/stack';
import { testDatabase, testNats } from '@conveyor/stack/testing';
import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { SignJWT, UnsecuredJWT } from 'jose';
import pg from 'pg';
import { accountKey } from './adapters/account-key.ts';
import { migrations } from './adapters/migrations.ts';
import { PostgresSignInAttempts } from './adapters/postgres-sign-in-attempts.ts';
import { loadUsersConfig } from './config.ts';
import { makeFirstAdmin } from './first-admin.ts';
import { type RunningUsersService, startUsersService } from './service.ts';

const ADMIN = 'chief@example.com';
const SERVICE_SECRET = 'notifications-secret-0123456789';

describe('users service (real Postgres and NATS)', () => {
  let db: Awaited<ReturnType<typeof testDatabase>>;
  let nats: Awaited<ReturnType<typeof testNats>>;
  let service: RunningUsersService;
  let client: usersV1.UserServiceClient;
  let sql: pg.Pool;
  // The service's clock: real time plus an offset the tests move forward.
  let offsetMs = 0;
  const now = () => new Date(Date.now() + offsetMs);

  before(async () => {
    db = await testDatabase('users');
    nats = await testNats();
    await migrate({ url: db.url, schema: 'users', migrations });
    // The operator's first admin (signing up never makes one).
    const first = await makeFirstAdmin(
      { databaseUrl: db.url, argon2: { memoryKiB: 8192, passes: 1, parallelism: 1 } },
      { email: ADMIN, name: 'Chief', password: 'correct horse battery' },
    );
    assert.equal(first.kind, 'created');
    service = await startUsersService(
      loadUsersConfig({
        DATABASE_URL: db.url,
        NATS_URL: nats.url,
        GRPC_PORT: '0',
        OPS_PORT: '0',
        LOG_LEVEL: 'warn',
        USERS_SERVICE_SECRETS: `notifications=${SERVICE_SECRET}`,
      }),
      { now },
    );
    client = new usersV1.UserServiceClient(`127.0.0.1:${service.grpcPort}`, insecure());
    sql = new pg.Pool({ connectionString: db.url, options: '-c search_path=users', max: 2 });
  });

  after(async () => {
    client?.close();
    await sql?.end();
    await service?.stop();
    await nats?.stop();
    await db?.drop();
  });

  const deadline = { deadlineMs: 10_000 };
  const signUp = (email: string, name: string, password = 'correct horse battery') =>
    callUnary(client, client.createUser, { email, name, password }, deadline);
  const signIn = (email: string, password: string, deviceToken = '') =>
    callUnary(client, client.authenticate, { email, password, deviceToken }, deadline);
  /** Signs up, then in: sign-up itself says nothing about the account. */
  const create = async (email: string, name: string, password = 'correct horse battery') => {
    await signUp(email, name, password);
    return signIn(email, password);
  };
  const bearer = (token: string) => {
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    return metadata;
  };
  const verify = (accessToken: string) => callUnary(client, client.verifyToken, { accessToken }, deadline);
  const rejectsWith = (code: status, details?: RegExp) => (error: ServiceError) => {
    assert.equal(error.code, code, `${error.code} ${error.details}`);
    if (details) assert.match(error.details, details);
    return true;
  };
  const signingKey = async () => {
    const { rows } = await sql.query('select key_id, private_key_pem from signing_keys');
    return { kid: rows[0].key_id as string, key: createPrivateKey(rows[0].private_key_pem as string) };
  };

  it('signs a user up: user.created v2 in the stream and outbox carries only sealed personal data', async () => {
    const password = `pw-${randomUUID()}`;
    const { user } = await create('  Grace@Example.com', 'Grace Hopper', password);
    assert.ok(user);
    assert.equal(user.email, 'grace@example.com');
    assert.equal(user.role, usersV1.Role.ROLE_CUSTOMER);
    assert.ok(user.createdAt instanceof Date);

    const { rows } = await sql.query('select password_hash from users where id = $1', [user.id]);
    assert.match(
      rows[0].password_hash,
      /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/,
    );
    assert.ok(!rows[0].password_hash.includes(password));

    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      // The first admin's user.created and user.role_changed come first.
      await waitUntil(async () => (await jsm.streams.info('USERS')).state.messages === 3, {
        timeoutMs: 5000,
        message: 'user.created did not reach the USERS stream',
      });
      const msg = await jsm.streams.getMessage('USERS', { seq: 3 });
      assert.ok(msg);
      assert.equal(msg.subject, 'user.created');
      assert.equal(msg.header.get('ce-dataschema'), 'urn:conveyor:event:user.created:v2');
      assert.equal(msg.header.get('ce-subject'), user.id);
      const data = msg.json<{ userId: string; personalData: string; createdAt: string }>();
      assert.deepEqual(Object.keys(data).sort(), ['createdAt', 'personalData', 'userId']);
      assert.equal(data.userId, user.id);
      const raw =
        new TextDecoder().decode(msg.data) +
        JSON.stringify([...msg.header.keys()].map((k) => msg.header.get(k)));
      for (const secret of ['grace', 'Grace', 'Hopper', password]) assert.ok(!raw.includes(secret), secret);

      // Services (only) reveal it with the user's key.
      const { accessToken } = await callUnary(
        client,
        client.issueServiceToken,
        { service: 'notifications', secret: SERVICE_SECRET },
        deadline,
      );
      const revealed = await callUnary(
        client,
        client.revealPersonalData,
        { userId: user.id, sealed: data.personalData },
        { ...deadline, metadata: bearer(accessToken) },
      );
      assert.deepEqual(revealed, { email: 'grace@example.com', name: 'Grace Hopper', resetToken: '' });
      const customer = await signIn('grace@example.com', password);
      await assert.rejects(
        callUnary(
          client,
          client.revealPersonalData,
          { userId: user.id, sealed: data.personalData },
          { ...deadline, metadata: bearer(customer.accessToken) },
        ),
        rejectsWith(status.PERMISSION_DENIED),
      );
    } finally {
      await nc.close();
    }
    await waitUntil(async () => (await sql.query('select 1 from outbox')).rowCount === 0, {
      timeoutMs: 5000,
      message: 'outbox row was not deleted after the PubAck',
    });
  });

  it('never makes a sign-up an admin, whatever its address', async () => {
    // Listed in USERS_ADMIN_EMAILS before issue 21, which made it an admin by signing up.
    const { user } = await create('other-admin@example.com', 'Other');
    assert.equal(user?.role, usersV1.Role.ROLE_CUSTOMER);
  });

  it('makes the first admin once: an operator action, refused once an admin exists', async () => {
    const admin = await signIn(ADMIN, 'correct horse battery');
    assert.equal(admin.user?.role, usersV1.Role.ROLE_ADMIN);
    const target = { databaseUrl: db.url, argon2: { memoryKiB: 8192, passes: 1, parallelism: 1 } };
    const second = await makeFirstAdmin(target, {
      email: 'usurper@example.com',
      name: 'Usurper',
      password: 'usurper password',
    });
    assert.deepEqual(second, { kind: 'admin-exists', email: ADMIN });
    const { rows } = await sql.query(`select 1 from users where email = 'usurper@example.com'`);
    assert.equal(rows.length, 0, 'nothing stored');
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      await waitUntil(async () => (await jsm.streams.info('USERS')).state.messages >= 2, {
        timeoutMs: 5000,
        message: "the first admin's events did not reach the USERS stream",
      });
      const granted = await jsm.streams.getMessage('USERS', { seq: 2 });
      assert.equal(granted?.subject, 'user.role_changed');
      assert.deepEqual(granted?.json(), {
        userId: admin.user?.id,
        role: 'admin',
        previousRole: null,
        changedBy: 'operator',
        changedAt: granted?.json<{ changedAt: string }>().changedAt,
      });
    } finally {
      await nc.close();
    }
  });

  it('answers a taken address exactly as a new one, keeps the first account and tells its owner', async () => {
    const first = await create('dup@example.com', 'First', 'first owner password');
    const fresh = await signUp('fresh@example.com', 'Fresh');
    const taken = await signUp(' DUP@example.com ', 'Second', 'second comer password');
    assert.deepEqual(taken, fresh);
    assert.deepEqual(usersV1.CreateUserResponse.encode(taken).finish(), new Uint8Array());
    const { rows } = await sql.query('select id, name from users where email = $1', ['dup@example.com']);
    assert.deepEqual(rows, [{ id: first.user?.id, name: 'First' }]);
    // The owner's password still works; the second comer's does not.
    await signIn('dup@example.com', 'first owner password');
    await assert.rejects(
      signIn('dup@example.com', 'second comer password'),
      rejectsWith(status.UNAUTHENTICATED),
    );

    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      const attempts = async () => {
        const found: { userId: string; subject: string | undefined }[] = [];
        const info = await jsm.streams.info('USERS');
        for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
          const msg = await jsm.streams.getMessage('USERS', { seq }).catch(() => undefined);
          if (msg?.subject !== 'user.signup_attempted') continue;
          const data = msg.json<{ userId: string }>();
          assert.deepEqual(Object.keys(data).sort(), ['attemptedAt', 'userId']);
          found.push({ userId: data.userId, subject: msg.header.get('ce-subject') });
        }
        return found;
      };
      await waitUntil(async () => (await attempts()).length > 0, {
        timeoutMs: 5000,
        message: 'user.signup_attempted did not reach the USERS stream',
      });
      const owner = { userId: first.user?.id, subject: first.user?.id };
      assert.deepEqual(await attempts(), [owner]);
      // At most one such mail an hour per owner: sign-up is public, so this would be a mail cannon.
      await signUp('dup@example.com', 'Third', 'third comer password');
      offsetMs += 61 * 60_000;
      try {
        await signUp('dup@example.com', 'Fourth', 'fourth comer password');
      } finally {
        offsetMs -= 61 * 60_000;
      }
      await waitUntil(async () => (await attempts()).length > 1, {
        timeoutMs: 5000,
        message: 'the attempt an hour later was not announced',
      });
      assert.deepEqual(await attempts(), [owner, owner]);
    } finally {
      await nc.close();
    }
  });

  it('takes about as long to sign up with a taken address as with a new one', async () => {
    await create('taken-timing@example.com', 'T', 'timing test password');
    const time = async (email: string) => {
      const started = performance.now();
      await signUp(email, 'T', 'timing test password');
      return performance.now() - started;
    };
    const taken: number[] = [];
    const fresh: number[] = [];
    for (let i = 0; i < 12; i++) {
      taken.push(await time('taken-timing@example.com'));
      fresh.push(await time(`fresh-timing-${i}@example.com`));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ratio = median(taken) / median(fresh);
    console.log(`sign-up median: taken ${median(taken).toFixed(1)} ms, new ${median(fresh).toFixed(1)} ms`);
    assert.ok(ratio > 0.5 && ratio < 2, `taken/new time ratio ${ratio.toFixed(2)}`);
  });

  const invalid: [string, { email: string; name: string; password: string }, string][] = [
    ['email', { email: 'not-an-email', name: 'X', password: 'long enough password' }, 'email'],
    ['empty name', { email: 'x@example.com', name: '   ', password: 'long enough password' }, 'name'],
    ['short password', { email: 'x@example.com', name: 'X', password: 'short-pw-11' }, 'password'],
    ['long password', { email: 'x@example.com', name: 'X', password: 'p'.repeat(129) }, 'password'],
  ];
  for (const [title, input, field] of invalid) {
    it(`answers INVALID_ARGUMENT naming the field for a bad ${title}, never echoing the password`, async () => {
      await assert.rejects(callUnary(client, client.createUser, input, deadline), (error: ServiceError) => {
        assert.equal(error.code, status.INVALID_ARGUMENT);
        assert.match(error.details, new RegExp(`^${field}: `));
        assert.deepEqual(error.metadata.get('invalid-field'), [field]);
        assert.ok(!error.details.includes(input.password));
        return true;
      });
    });
  }

  it('authenticates: a verifiable EdDSA token; same error for unknown email and wrong password', async () => {
    const password = 'ada lovelace password';
    const { user } = await create('ada@example.com', 'Ada', password);
    const signed = await signIn(' ADA@example.com', password);
    assert.equal(signed.user?.id, user?.id);
    const [header] = signed.accessToken.split('.');
    assert.equal(JSON.parse(Buffer.from(header!, 'base64url').toString()).alg, 'EdDSA');
    const expiresIn = signed.expiresAt!.getTime() - Date.now();
    assert.ok(expiresIn > 14 * 60_000 && expiresIn <= 15 * 60_000 + 1000, `${expiresIn}`);
    const { claims } = await verify(signed.accessToken);
    assert.equal(claims?.subject, user?.id);
    assert.equal(claims?.role, usersV1.Role.ROLE_CUSTOMER);

    const wrong = await signIn('ada@example.com', 'not the password!').catch((e: ServiceError) => e);
    const unknown = await signIn('nobody@example.com', 'not the password!').catch((e: ServiceError) => e);
    assert.equal((wrong as ServiceError).code, status.UNAUTHENTICATED);
    assert.equal((unknown as ServiceError).code, status.UNAUTHENTICATED);
    assert.equal((wrong as ServiceError).details, (unknown as ServiceError).details);
  });

  it('takes about as long for an unknown email as for a wrong password', async () => {
    const knownEmails = ['timing-1@example.com', 'timing-2@example.com', 'timing-3@example.com'];
    for (const email of knownEmails) await create(email, 'T', 'timing test password');
    const time = async (email: string) => {
      const started = performance.now();
      await signIn(email, 'wrong password 123').catch(() => {});
      return performance.now() - started;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    // Twelve each, alternating; four per account stays under the lock threshold (5).
    for (let i = 0; i < 12; i++) {
      known.push(await time(knownEmails[i % 3]!));
      unknown.push(await time(`ghost-${i}@example.com`));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ratio = median(unknown) / median(known);
    console.log(
      `sign-in failure median: known ${median(known).toFixed(1)} ms, unknown ${median(unknown).toFixed(1)} ms`,
    );
    assert.ok(ratio > 0.5 && ratio < 2, `unknown/known time ratio ${ratio.toFixed(2)}`);
  });

  it('throttles repeated failures per account (known or not) with a growing lock; success resets', async () => {
    const password = 'throttle test password';
    await create('locked@example.com', 'L', password);
    for (const email of ['locked@example.com', 'ghost@example.com']) {
      for (let i = 0; i < 5; i++) {
        await assert.rejects(signIn(email, 'wrong password 123'), rejectsWith(status.UNAUTHENTICATED));
      }
      // Locked now, even with the right password.
      await assert.rejects(
        signIn(email, email === 'locked@example.com' ? password : 'x'.repeat(12)),
        (error: ServiceError) => {
          assert.equal(error.code, status.RESOURCE_EXHAUSTED);
          assert.match(error.details, /^too many failed sign-ins for this account; try again in (29|30) s$/);
          return true;
        },
      );
    }
    offsetMs += 31_000;
    await assert.rejects(
      signIn('locked@example.com', 'wrong password 123'),
      rejectsWith(status.UNAUTHENTICATED),
    );
    await assert.rejects(
      signIn('locked@example.com', password),
      rejectsWith(status.RESOURCE_EXHAUSTED, /in (59|60) s$/),
    );
    offsetMs += 61_000;
    assert.ok((await signIn('locked@example.com', password)).accessToken);
    const { rows } = await sql.query('select account from sign_in_failures');
    assert.ok(
      rows.every((r) => /^[0-9a-f]{64}$/.test(r.account)),
      'throttle keys hold no address',
    );
    const accounts = rows.map((r) => r.account);
    assert.ok(!accounts.includes(accountKey('locked@example.com')), 'success resets');
    assert.ok(accounts.includes(accountKey('ghost@example.com')), 'unknown accounts are throttled too');
  });

  it('lets the owner in on a device that signed in before while guesses from elsewhere lock the account', async () => {
    const password = 'owner device password';
    await create('griefed@example.com', 'G', password);
    const owner = await signIn('griefed@example.com', password);
    assert.ok(owner.deviceToken, 'a device token comes with every sign-in');
    const other = await create('bystander-device@example.com', 'B', 'bystander device pw');
    // An attacker keeps the account locked with guesses from a client that never signed in.
    for (let i = 0; i < 6; i++) await signIn('griefed@example.com', 'attacker guess 123').catch(() => {});
    await assert.rejects(signIn('griefed@example.com', password), rejectsWith(status.RESOURCE_EXHAUSTED));
    // The owner's device still signs in, and gets a fresh device token.
    const back = await signIn('griefed@example.com', password, owner.deviceToken);
    assert.ok(back.accessToken && back.deviceToken);
    // Another account's device token, or a forged one, is an unknown client here: still locked.
    for (const token of [other.deviceToken, `${owner.deviceToken}x`, owner.accessToken]) {
      await assert.rejects(
        signIn('griefed@example.com', password, token),
        rejectsWith(status.RESOURCE_EXHAUSTED),
      );
    }
    // A device's own failures lock that device alone.
    for (let i = 0; i < 5; i++) {
      await assert.rejects(
        signIn('griefed@example.com', 'wrong on the device', back.deviceToken),
        rejectsWith(status.UNAUTHENTICATED),
      );
    }
    await assert.rejects(
      signIn('griefed@example.com', password, back.deviceToken),
      rejectsWith(status.RESOURCE_EXHAUSTED),
    );
    assert.ok(
      (await signIn('griefed@example.com', password, owner.deviceToken)).accessToken,
      'another device',
    );
  });

  it('prunes sign-in failures that no longer decide anything: quiet for a window and not locked', async () => {
    const attempts = new PostgresSignInAttempts(sql, {
      maxFailures: 2,
      windowMs: 60_000,
      baseLockMs: 600_000,
      maxLockMs: 600_000,
    });
    const [quiet, locked, recent] = ['a', 'b', 'c'].map((c) => c.repeat(64)) as [string, string, string];
    const t0 = new Date('2026-11-24T10:00:00.000Z');
    const at = (ms: number) => new Date(t0.getTime() + ms);
    await attempts.begin(quiet, t0);
    await attempts.begin(locked, t0);
    await attempts.begin(locked, t0); // the limit: locked for 10 min
    await attempts.begin(recent, at(50_000));
    const left = async () =>
      (
        await sql.query<{ account: string }>('select account from sign_in_failures where account = any($1)', [
          [quiet, locked, recent],
        ])
      ).rows
        .map((r) => r.account[0])
        .sort();
    assert.equal(await attempts.prune(at(30_000)), 0);
    assert.equal(await attempts.prune(at(61_000)), 1);
    assert.deepEqual(await left(), ['b', 'c']);
    assert.equal(await attempts.prune(at(11 * 60_000)), 2);
    assert.deepEqual(await left(), []);
  });

  it('refunds an attempt that reached no verdict, unless another attempt counted since', async () => {
    const attempts = new PostgresSignInAttempts(sql);
    const account = 'd'.repeat(64);
    const failures = async () =>
      (
        await sql.query<{ failures: number }>('select failures from sign_in_failures where account = $1', [
          account,
        ])
      ).rows[0]?.failures;
    const t0 = new Date('2026-11-24T11:00:00.000Z');
    const first = await attempts.begin(account, t0);
    assert.ok(first.allowed);
    const second = await attempts.begin(account, new Date(t0.getTime() + 1000));
    assert.ok(second.allowed);
    await attempts.refund(account, first); // the second counted since: not first's to undo
    assert.equal(await failures(), 2);
    await attempts.refund(account, second);
    assert.equal(await failures(), 1);
    const third = await attempts.begin(account, new Date(t0.getTime() + 2000));
    assert.ok(third.allowed);
    assert.equal(third.before?.failures, 1);
    await attempts.succeeded(account);
  });

  it('VerifyToken rejects tampered, expired, wrong-audience, wrong-issuer, alg none and HS256-with-public-key tokens', async () => {
    const { user } = await create('verify@example.com', 'V', 'verify test password');
    const { accessToken } = await signIn('verify@example.com', 'verify test password');
    const { kid, key } = await signingKey();
    const sign = (claims: { iss?: string; aud?: string; exp?: number }) =>
      new SignJWT({ role: 'customer' })
        .setProtectedHeader({ alg: 'EdDSA', kid })
        .setSubject(user!.id)
        .setJti(randomUUID())
        .setIssuedAt()
        .setIssuer(claims.iss ?? 'conveyor-users')
        .setAudience(claims.aud ?? 'conveyor')
        .setExpirationTime(claims.exp ?? '5m')
        .sign(key);
    // Positive control: the same forge with the right claims passes.
    assert.equal((await verify(await sign({}))).claims?.subject, user?.id);

    const [h, p, s] = accessToken.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    const tamperedPayload = Buffer.from(JSON.stringify({ ...payload, role: 'admin' })).toString('base64url');
    const flipped = `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
    const publicPem = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
    const hs256 = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user!.id)
      .setJti(randomUUID())
      .setIssuedAt()
      .setIssuer('conveyor-users')
      .setAudience('conveyor')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(publicPem));
    const none = new UnsecuredJWT({ role: 'admin', jti: randomUUID() })
      .setSubject(user!.id)
      .setIssuedAt()
      .setIssuer('conveyor-users')
      .setAudience('conveyor')
      .setExpirationTime('5m')
      .encode();
    const cases: [string, string, RegExp][] = [
      ['tampered payload', `${h}.${tamperedPayload}.${s}`, /signature invalid/],
      ['tampered signature', `${h}.${p}.${flipped}`, /signature invalid/],
      ['wrong audience', await sign({ aud: 'someone-else' }), /claim aud invalid/],
      ['wrong issuer', await sign({ iss: 'evil' }), /claim iss invalid/],
      ['expired', await sign({ exp: Math.floor(Date.now() / 1000) - 60 }), /expired/],
      ['alg none', none, /algorithm not allowed|malformed/],
      ['HS256 keyed with the public key', hs256, /algorithm not allowed/],
      ['garbage', 'not.a.jwt', /malformed/],
    ];
    for (const [title, token, reason] of cases) {
      await assert.rejects(verify(token), (error: ServiceError) => {
        assert.equal(error.code, status.UNAUTHENTICATED, title);
        assert.match(error.details, reason, title);
        return true;
      });
    }
    // A real token expires with the clock too.
    offsetMs += 16 * 60_000;
    await assert.rejects(verify(accessToken), rejectsWith(status.UNAUTHENTICATED, /expired/));
    offsetMs -= 16 * 60_000;
  });

  it('publishes the JWK set and issues service tokens only for configured secrets', async () => {
    const keys = await callUnary(client, client.getPublicKeys, {}, deadline);
    assert.equal(keys.issuer, 'conveyor-users');
    assert.equal(keys.audience, 'conveyor');
    assert.equal(keys.keys.length, 1);
    assert.equal(keys.keys[0]?.kty, 'OKP');
    assert.equal(keys.keys[0]?.crv, 'Ed25519');
    assert.equal(keys.keys[0]?.alg, 'EdDSA');
    assert.equal(keys.keys[0]?.kid, (await signingKey()).kid);

    const issued = await callUnary(
      client,
      client.issueServiceToken,
      { service: 'notifications', secret: SERVICE_SECRET },
      deadline,
    );
    const { claims } = await verify(issued.accessToken);
    assert.equal(claims?.subject, 'service:notifications');
    assert.equal(claims?.role, usersV1.Role.ROLE_SERVICE);
    for (const request of [
      { service: 'notifications', secret: `${SERVICE_SECRET}x` },
      { service: 'gateway', secret: SERVICE_SECRET },
    ]) {
      await assert.rejects(
        callUnary(client, client.issueServiceToken, request, deadline),
        rejectsWith(status.UNAUTHENTICATED, /^unknown service or wrong secret$/),
      );
    }
  });

  it('GetUser: self and admins; others and service tokens PERMISSION_DENIED; no token UNAUTHENTICATED', async () => {
    const { user } = await create('getme@example.com', 'Get Me', 'get me password!');
    const me = await signIn('getme@example.com', 'get me password!');
    await create('stranger@example.com', 'S', 'stranger password');
    const stranger = await signIn('stranger@example.com', 'stranger password');
    const admin = await signIn(ADMIN, 'correct horse battery');
    const service = await callUnary(
      client,
      client.issueServiceToken,
      { service: 'notifications', secret: SERVICE_SECRET },
      deadline,
    );
    const get = (token: string | undefined, id = user!.id) =>
      callUnary(
        client,
        client.getUser,
        { id },
        { ...deadline, ...(token ? { metadata: bearer(token) } : {}) },
      );
    for (const token of [me.accessToken, admin.accessToken]) {
      assert.equal((await get(token)).user?.email, 'getme@example.com');
    }
    await assert.rejects(get(stranger.accessToken), rejectsWith(status.PERMISSION_DENIED));
    // Service tokens are scoped: notifications' opens sealed data and calls nothing else here.
    await assert.rejects(
      get(service.accessToken),
      rejectsWith(status.PERMISSION_DENIED, /^service notifications may not call GetUser$/),
    );
    await assert.rejects(
      callUnary(client, client.signOut, {}, { ...deadline, metadata: bearer(service.accessToken) }),
      rejectsWith(status.PERMISSION_DENIED, /may not call SignOut/),
    );
    await assert.rejects(get(undefined), rejectsWith(status.UNAUTHENTICATED, /^missing access token/));
    await assert.rejects(get('nonsense'), rejectsWith(status.UNAUTHENTICATED));
    await assert.rejects(
      get(admin.accessToken, '0192f3a0-0000-7000-8000-000000000000'),
      rejectsWith(status.NOT_FOUND),
    );
    await assert.rejects(
      get(admin.accessToken, 'nope'),
      rejectsWith(status.INVALID_ARGUMENT, /^id: "nope" is not a UUID$/),
    );
  });

  it('GrantRole and RevokeRole: admins only, one user.role_changed each, never the last admin', async () => {
    const { user: deputy } = await create('deputy@example.com', 'Deputy', 'deputy password!');
    const chief = await signIn(ADMIN, 'correct horse battery');
    const role = usersV1.Role.ROLE_ADMIN;
    const as = (token: string) => ({ ...deadline, metadata: bearer(token) });
    const grant = (token: string, userId: string, r: usersV1.Role = role) =>
      callUnary(client, client.grantRole, { userId, role: r }, as(token));
    const revoke = (token: string, userId: string) =>
      callUnary(client, client.revokeRole, { userId, role }, as(token));
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      // Every event recorded from now on, in order, once the outbox is drained.
      const before = (await jsm.streams.info('USERS')).state.last_seq;
      const recorded = async () => {
        await waitUntil(async () => (await sql.query('select 1 from outbox')).rowCount === 0, {
          timeoutMs: 5000,
          message: 'the outbox was not drained',
        });
        const last = (await jsm.streams.info('USERS')).state.last_seq;
        const events: Record<string, unknown>[] = [];
        for (let seq = before + 1; seq <= last; seq++) {
          const m = await jsm.streams.getMessage('USERS', { seq });
          const { changedAt: _, ...data } = m?.json<Record<string, unknown>>() ?? {};
          events.push({ type: m?.subject, ...data });
        }
        return events;
      };

      const asDeputy = await signIn('deputy@example.com', 'deputy password!');
      await assert.rejects(grant(asDeputy.accessToken, deputy!.id), rejectsWith(status.PERMISSION_DENIED));
      await assert.rejects(
        grant(chief.accessToken, deputy!.id, usersV1.Role.ROLE_SERVICE),
        rejectsWith(status.INVALID_ARGUMENT, /^role: must be ROLE_ADMIN$/),
      );
      await assert.rejects(
        grant(chief.accessToken, '0192f3a0-0000-7000-8000-000000000000'),
        rejectsWith(status.NOT_FOUND),
      );
      await assert.rejects(
        grant(chief.accessToken, 'nope'),
        rejectsWith(status.INVALID_ARGUMENT, /^user_id: /),
      );
      await assert.rejects(
        revoke(chief.accessToken, chief.user!.id),
        rejectsWith(status.FAILED_PRECONDITION, /last admin/),
      );

      assert.equal((await grant(chief.accessToken, deputy!.id)).user?.role, usersV1.Role.ROLE_ADMIN);
      assert.equal(
        (await grant(chief.accessToken, deputy!.id)).user?.role,
        usersV1.Role.ROLE_ADMIN,
        'again: no change',
      );
      // The deputy's old token still says customer until it expires; a new one says admin.
      const deputyAdmin = await signIn('deputy@example.com', 'deputy password!');
      assert.equal(deputyAdmin.user?.role, usersV1.Role.ROLE_ADMIN);
      assert.equal(
        (await revoke(deputyAdmin.accessToken, chief.user!.id)).user?.role,
        usersV1.Role.ROLE_CUSTOMER,
      );
      // The chief's token was issued under the old role: refused from now on (revocation).
      await assert.rejects(
        grant(chief.accessToken, chief.user!.id),
        rejectsWith(status.UNAUTHENTICATED, /revoked/),
      );
      await assert.rejects(
        revoke(deputyAdmin.accessToken, deputy!.id),
        rejectsWith(status.FAILED_PRECONDITION),
      );
      assert.equal(
        (await grant(deputyAdmin.accessToken, chief.user!.id)).user?.role,
        usersV1.Role.ROLE_ADMIN,
      );
      const chiefAgain = await signIn(ADMIN, 'correct horse battery');
      assert.equal((await revoke(chiefAgain.accessToken, deputy!.id)).user?.role, usersV1.Role.ROLE_CUSTOMER);

      const change = (userId: string, to: string, from: string, by: string) => ({
        type: 'user.role_changed',
        userId,
        role: to,
        previousRole: from,
        changedBy: by,
      });
      assert.deepEqual(
        (await recorded()).filter((e) => e.type === 'user.role_changed'),
        [
          change(deputy!.id, 'admin', 'customer', chief.user!.id),
          change(chief.user!.id, 'customer', 'admin', deputy!.id),
          change(chief.user!.id, 'admin', 'customer', deputy!.id),
          change(deputy!.id, 'customer', 'admin', chief.user!.id),
        ],
      );
    } finally {
      await nc.close();
    }
  });

  it('EraseUser: crypto-shreds the key, removes plaintext, emits user.erased once, and is idempotent', async () => {
    const password = 'erase me password';
    const { user } = await create('erase.me@example.com', 'Erasmus Unique', password);
    const me = await signIn('erase.me@example.com', password);
    await signIn('erase.me@example.com', 'wrong password 123').catch(() => {});
    await create('bystander@example.com', 'B', 'bystander password');
    const bystander = await signIn('bystander@example.com', 'bystander password');
    const erase = (token: string) =>
      callUnary(client, client.eraseUser, { id: user!.id }, { ...deadline, metadata: bearer(token) });
    await assert.rejects(erase(bystander.accessToken), rejectsWith(status.PERMISSION_DENIED));

    const first = await erase(me.accessToken);
    const second = await erase((await signIn(ADMIN, 'correct horse battery')).accessToken);
    assert.deepEqual(second.erasedAt, first.erasedAt);

    const row = (await sql.query('select * from users where id = $1', [user!.id])).rows[0];
    assert.equal(row.email, null);
    assert.equal(row.name, null);
    assert.equal(row.password_hash, null);
    assert.ok(row.erased_at instanceof Date);
    assert.equal((await sql.query('select 1 from user_keys where user_id = $1', [user!.id])).rowCount, 0);
    await assert.rejects(verify(me.accessToken), rejectsWith(status.UNAUTHENTICATED, /no longer exists/));
    await assert.rejects(signIn('erase.me@example.com', password), rejectsWith(status.UNAUTHENTICATED));
    const service = await callUnary(
      client,
      client.issueServiceToken,
      { service: 'notifications', secret: SERVICE_SECRET },
      deadline,
    );
    await assert.rejects(
      callUnary(
        client,
        client.revealPersonalData,
        { userId: user!.id, sealed: `v1.${'A'.repeat(16)}.${'B'.repeat(40)}` },
        { ...deadline, metadata: bearer(service.accessToken) },
      ),
      rejectsWith(status.NOT_FOUND, /was erased/),
    );
    // The same email can sign up again as a new user.
    assert.notEqual((await create('erase.me@example.com', 'Again', password)).user?.id, user?.id);

    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      const erasedEvents = async () => {
        const found: string[] = [];
        const info = await jsm.streams.info('USERS');
        for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
          const msg = await jsm.streams.getMessage('USERS', { seq }).catch(() => undefined);
          if (msg?.subject === 'user.erased' && msg.json<{ userId: string }>().userId === user!.id)
            found.push(msg.header.get('ce-id'));
        }
        return found;
      };
      await waitUntil(async () => (await erasedEvents()).length === 1, {
        timeoutMs: 5000,
        message: 'no user.erased',
      });
      assert.equal((await erasedEvents()).length, 1);
    } finally {
      await nc.close();
    }
  });

  it('reports ready on the ops port and exposes metrics', async () => {
    const base = `http://127.0.0.1:${service.ops.port}`;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(((await ready.json()) as { checks: unknown }).checks, { postgres: 'ok', nats: 'ok' });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /conveyor_outbox_published_total\{subject="user.created",service="users"\} \d+/);
  });
});
