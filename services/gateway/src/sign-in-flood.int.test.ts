import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from '@conveyor/stack';
import { type GatewayStack, startGatewayStack } from './testing/gateway-stack.ts';

const FLOOD_CALLERS = 100;
const FLOOD_MAX_CALLS = 20_000;
const FLOOD_MAX_MS = 60_000;
const CHECKS = 30;

/**
 * Issue 21: a flood of log-ins through the gateway, refused by users' password pool, must not open
 * the breaker every signed-in request goes through (each verifies its token with users). Bounded:
 * the flood stops once the checks are done, after 20,000 requests or after 60 s.
 */
describe('gateway under a log-in flood keeps serving signed-in callers (processes)', () => {
  let stack: GatewayStack;

  before(async () => {
    // A small password pool (users reads it; the others ignore it), so the flood is refused early.
    stack = await startGatewayStack('gw_flood', {}, { USERS_PASSWORD_MAX_IN_FLIGHT: '2' });
  });
  after(async () => {
    await stack?.stop();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${stack.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('answers /api/me for a signed-in customer while log-ins are refused', async (t) => {
    const email = `flood-victim-${randomUUID().slice(0, 8)}@conveyor.test`;
    const password = 'correct horse battery';
    assert.equal((await post('/api/signup', { email, name: 'Victim', password })).status, 202);
    const login = await post('/api/login', { email, password });
    assert.equal(login.status, 200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;

    const statuses = new Map<number, number>();
    let sent = 0;
    let stop = false;
    const started = performance.now();
    const caller = async () => {
      while (!stop && sent < FLOOD_MAX_CALLS && performance.now() - started < FLOOD_MAX_MS) {
        sent++;
        const res = await post('/api/login', {
          email: `nobody-${randomUUID()}@example.com`,
          password: 'not the password of anyone',
        });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    };
    const flood = Promise.all(Array.from({ length: FLOOD_CALLERS }, caller));
    const failures: string[] = [];
    const latencies: number[] = [];
    try {
      await waitUntil(() => (statuses.get(503) ?? 0) >= 20, {
        timeoutMs: 30_000,
        message: 'users never refused the flood',
      });
      for (let i = 0; i < CHECKS; i++) {
        const asked = performance.now();
        const me = await fetch(`${stack.url}/api/me`, { headers: { cookie } });
        const body = await me.text();
        latencies.push(performance.now() - asked);
        if (me.status !== 200) failures.push(`${me.status} ${body.slice(0, 200)}`);
      }
    } finally {
      stop = true;
      await flood;
    }
    latencies.sort((a, b) => a - b);
    t.diagnostic(
      `/api/me under the flood: ${CHECKS - failures.length}/${CHECKS} OK, p50 ${latencies[Math.floor(CHECKS / 2)]?.toFixed(1)} ms, ` +
        `max ${latencies.at(-1)?.toFixed(1)} ms; flood: ${sent} log-ins in ${((performance.now() - started) / 1000).toFixed(1)} s, ` +
        `by status ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    assert.deepEqual(failures.slice(0, 3), [], `${failures.length} of ${CHECKS} /api/me calls failed`);
    assert.ok((statuses.get(503) ?? 0) > 0, `the flood was never refused: ${JSON.stringify([...statuses])}`);
    assert.deepEqual(
      [...statuses.keys()].filter((s) => s !== 401 && s !== 503),
      [],
      'log-ins were answered 401 (checked) or 503 (refused), nothing else',
    );
  });
});
