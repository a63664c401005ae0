/** A clock tests move by hand, for the in-memory component tests (a light import: nothing else loads). */
export function testClock(start = new Date('2026-12-01T09:00:00Z')) {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
  };
}

export type TestClock = ReturnType<typeof testClock>;
