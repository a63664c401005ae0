import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type EventLog, republishEvents } from './republish-events.ts';

const day = 24 * 60 * 60 * 1000;

/** A log of `count` events recorded a day apart, the last one `lastAt`. */
function log(count: number, lastAt: Date): EventLog & { queued: [number, number][] } {
  const queued: [number, number][] = [];
  return {
    queued,
    head: async () => count,
    first: async (position) =>
      position <= count
        ? { position, recordedAt: new Date(lastAt.getTime() - (count - position) * day) }
        : undefined,
    requeue: async (from, to) => {
      queued.push([from, to]);
      return to - from + 1;
    },
  };
}

describe('users RepublishEvents (ADR 0028, 0030)', () => {
  const now = new Date('2026-12-06T12:00:00Z');

  it('queues a range inside the republish window, to the newest with to 0', async () => {
    const events = log(40, now);
    assert.equal(await republishEvents(events, () => now)({ fromPosition: 11, toPosition: 0 }), 30);
    assert.deepEqual(events.queued, [[11, 40]]);
  });

  it('refuses a range reaching past the window, naming the position and its age, and queues nothing', async () => {
    const events = log(40, now);
    await assert.rejects(
      republishEvents(events, () => now)({ fromPosition: 5, toPosition: 12 }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'FAILED_PRECONDITION');
        assert.match(error.message, /^position 5 was recorded 35 days ago, past the 30-day republish window/);
        return true;
      },
    );
    assert.deepEqual(events.queued, []);
  });

  it('refuses bad positions as INVALID_ARGUMENT', async () => {
    const republish = republishEvents(log(3, now), () => now);
    await assert.rejects(republish({ fromPosition: 0, toPosition: 0 }), /from_position/);
    await assert.rejects(republish({ fromPosition: 3, toPosition: 2 }), /to_position/);
  });
});
