import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type System, startSystem } from '@conveyor/stack';
import { signUp } from '@conveyor/stack/testing';

/**
 * Issue 21, edge limits (ADR 0023): sign-ups per client address, log-ins per address and per
 * account, counted in NATS KV so two gateway replicas share one allowance. The replicas trust the
 * test as a proxy, so X-Forwarded-For names a fresh client per case.
 */
describe('gateway edge limits, shared by two replicas (processes)', () => {
  let system: System;
  let replicas: string[];

  before(async () => {
    system = await startSystem({
      name: 'gw_limits',
      services: ['users', 'gateway'],
      replicas: { gateway: 2 },
      infra: { smtp: false },
      env: {
        users: { USERS_ARGON2_MEMORY_KIB: '8192', USERS_ARGON2_PASSES: '1' },
        gateway: {
          GATEWAY_TRUSTED_PROXIES: '127.0.0.1,::1',
          GATEWAY_SIGNUPS_PER_IP_PER_HOUR: '3',
          GATEWAY_LOGINS_PER_IP_PER_MINUTE: '5',
          GATEWAY_LOGINS_PER_ACCOUNT_PER_MINUTE: '3',
        },
      },
    });
    replicas = system.replicas('gateway').map((g) => `http://${g.address}`);
  });
  after(async () => {
    await system?.stop();
  });

  /** POSTs through replica `i % 2` as client `ip`; answers the status, Retry-After and detail. */
  async function post(i: number, path: string, body: unknown, forwardedFor: string) {
    const res = await fetch(`${replicas[i % replicas.length]}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { detail?: string };
    return { status: res.status, retryAfter: res.headers.get('retry-after'), detail: json.detail };
  }
  const signUpAs = (i: number, ip: string) =>
    post(
      i,
      '/api/signup',
      { email: `c-${randomUUID()}@example.com`, name: 'C', password: 'long enough password' },
      ip,
    );
  const logInAs = (i: number, ip: string, email: string, password = 'not the password') =>
    post(i, '/api/login', { email, password }, ip);

  it('allows 3 sign-ups an hour per client across both replicas, then 429 with Retry-After', async () => {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await signUpAs(i, '198.51.100.7')).status);
    assert.deepEqual(statuses, [202, 202, 202, 429], 'one allowance for both replicas');
    const refused = await signUpAs(1, '198.51.100.7');
    assert.equal(refused.status, 429);
    assert.match(refused.detail ?? '', /^too many sign-ups from this address; try again in \d+ s$/);
    assert.ok(
      Number(refused.retryAfter) > 3000 && Number(refused.retryAfter) <= 3600,
      `${refused.retryAfter}`,
    );
    assert.equal((await signUpAs(0, '198.51.100.8')).status, 202, 'another client is not affected');
  });

  it('counts the nearest untrusted X-Forwarded-For hop, so a client cannot pick its own address', async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal((await signUpAs(i, `10.9.8.${i}, 198.51.100.20`)).status, 202);
    }
    // A different address written at the left changes nothing: the proxy appended the real one.
    assert.equal((await signUpAs(3, '10.9.9.9, 198.51.100.20')).status, 429);
  });

  it('limits log-ins per account and per client address', async () => {
    const victim = await signUp(system.address('users'), { password: 'victim password!' });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await logInAs(i, `203.0.113.${i}`, victim.email)).status);
    assert.deepEqual(codes, [401, 401, 401, 429], 'three guesses a minute at one account, from anywhere');
    const account = await logInAs(0, '203.0.113.50', victim.email, 'victim password!');
    assert.match(account.detail ?? '', /too many log-ins to this account/);

    const perClient = [];
    for (let i = 0; i < 6; i++) {
      perClient.push((await logInAs(i, '192.0.2.77', `nobody-${i}@example.com`)).status);
    }
    assert.deepEqual(perClient, [401, 401, 401, 401, 401, 429], 'five log-ins a minute per client');
  });
});
