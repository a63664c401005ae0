import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { usersV1 } from '@conveyor/contracts';
import { callUnary } from '@conveyor/platform';
import { type System, startSystem, waitUntil } from '@conveyor/stack';
import { signUp } from '@conveyor/stack/testing';
import * as grpc from '@grpc/grpc-js';

const FLOOD_CALLERS = 500;
const FLOOD_MAX_CALLS = 40_000;
const FLOOD_MAX_MS = 60_000;
const VERIFICATIONS = 60;

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

/**
 * Issue 21, "admission per purpose": a flood of sign-ins, each waiting on Argon2, must not starve
 * the calls every other service depends on. 500 callers send Authenticate (unknown addresses, so no
 * account lock ends it early) straight to users while another client checks fresh tokens with
 * VerifyToken. Bounded: the flood stops once the checks are done, after 40,000 calls or after 60 s.
 */
describe('users under a sign-in flood keeps answering VerifyToken (process, loopback)', () => {
  let system: System;

  before(async () => {
    system = await startSystem({
      name: 'e2e_users_admission',
      services: ['users'],
      infra: { smtp: false },
    });
  });

  after(async () => {
    await system?.stop();
  });

  it('answers every VerifyToken while the flood is refused or throttled', async (t) => {
    const address = system.address('users');
    const tokens = await Promise.all(Array.from({ length: 6 }, () => signUp(address)));

    // Separate channels: the flood and the checks do not share a connection (grpc-js keys channels by
    // their options; a distinct option value gives each its own).
    const flooder = new usersV1.UserServiceClient(address, grpc.credentials.createInsecure(), {
      'grpc.primary_user_agent': 'flood',
    });
    const checker = new usersV1.UserServiceClient(address, grpc.credentials.createInsecure(), {
      'grpc.primary_user_agent': 'checker',
    });
    const outcome = { sent: 0, refused: 0, unauthenticated: 0, other: new Map<string, number>() };
    let stop = false;
    const floodStarted = performance.now();
    const caller = async () => {
      while (!stop && outcome.sent < FLOOD_MAX_CALLS && performance.now() - floodStarted < FLOOD_MAX_MS) {
        outcome.sent++;
        try {
          await callUnary(
            flooder,
            flooder.authenticate,
            {
              email: `flood-${randomUUID()}@example.com`,
              password: 'not-the-password-of-anyone',
              deviceToken: '',
            },
            { deadlineMs: 10_000 },
          );
        } catch (error) {
          const code = (error as grpc.ServiceError).code;
          if (code === grpc.status.UNAVAILABLE || code === grpc.status.RESOURCE_EXHAUSTED) {
            outcome.refused++;
            await nextTurn(); // let the other callers run; no pause beyond that
          } else if (code === grpc.status.UNAUTHENTICATED) outcome.unauthenticated++;
          else {
            const key = `${grpc.status[code] ?? code}: ${(error as Error).message.slice(0, 120)}`;
            outcome.other.set(key, (outcome.other.get(key) ?? 0) + 1);
          }
        }
      }
    };
    const flood = Promise.all(Array.from({ length: FLOOD_CALLERS }, caller));

    const latencies: number[] = [];
    const failures: string[] = [];
    try {
      // The flood is at capacity once users refuses some of it.
      await waitUntil(() => outcome.refused > 0 || outcome.unauthenticated > 100, {
        timeoutMs: 30_000,
        message: 'the flood never reached the service',
      });
      // Three lanes of checks, as several services would ask at once.
      const lane = async (first: number) => {
        for (let i = first; i < VERIFICATIONS; i += 3) {
          const who = tokens[i % tokens.length]!;
          const started = performance.now();
          try {
            const { claims } = await callUnary(
              checker,
              checker.verifyToken,
              { accessToken: who.token },
              { deadlineMs: 5000 },
            );
            assert.equal(claims?.subject, who.userId);
            latencies.push(performance.now() - started);
          } catch (error) {
            failures.push(`${grpc.status[(error as grpc.ServiceError).code]}: ${(error as Error).message}`);
          }
        }
      };
      await Promise.all([lane(0), lane(1), lane(2)]);
    } finally {
      stop = true;
      await flood;
      flooder.close();
      checker.close();
    }

    const sorted = [...latencies].sort((a, b) => a - b);
    t.diagnostic(
      `VerifyToken under the flood: ${latencies.length}/${VERIFICATIONS} OK, p50 ${percentile(sorted, 50).toFixed(1)} ms, ` +
        `p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${(sorted.at(-1) ?? Number.NaN).toFixed(1)} ms`,
    );
    t.diagnostic(
      `flood: ${outcome.sent} Authenticate sent in ${((performance.now() - floodStarted) / 1000).toFixed(1)} s, ` +
        `${outcome.refused} refused, ${outcome.unauthenticated} checked and rejected, other ${JSON.stringify([...outcome.other])}`,
    );
    assert.deepEqual(
      failures.slice(0, 5),
      [],
      `${failures.length} of ${VERIFICATIONS} VerifyToken calls failed`,
    );
    assert.ok(outcome.refused > 0, 'the flood was neither refused nor throttled');
    assert.deepEqual([...outcome.other], [], 'the flood got only refusals and rejections');
  });
});
