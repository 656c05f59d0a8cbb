import { describe, expect, it } from 'vitest';
import { Throttle } from '../../../src-renderer/src/lib/throttle';

/** A throttle on a fake clock whose timers fire when the test advances time. */
function harness(interval = 250, delay = 0) {
  let clock = 0;
  let timers: { at: number; f: () => void; id: number }[] = [];
  let nextId = 0;
  const runs: number[] = [];
  const throttle = new Throttle(() => runs.push(clock), {
    interval,
    delay,
    now: () => clock,
    setTimer: (f, ms) => {
      timers.push({ at: clock + ms, f, id: ++nextId });
      return nextId;
    },
    clearTimer: (id) => (timers = timers.filter((t) => t.id !== id)),
  });
  const advance = (ms: number) => {
    const end = clock + ms;
    for (;;) {
      const due = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      timers = timers.filter((t) => t !== due);
      clock = due.at;
      due.f();
    }
    clock = end;
  };
  return { throttle, runs, advance, timers: () => timers.length };
}

describe('Throttle', () => {
  it('runs the first request after the delay, not in the caller’s task', () => {
    const { throttle, runs, advance } = harness(250, 20);
    throttle.request();
    expect(runs).toEqual([]);
    advance(19);
    expect(runs).toEqual([]);
    advance(1);
    expect(runs).toEqual([20]);
  });

  it('folds a burst of requests into one trailing run per interval', () => {
    const { throttle, runs, advance, timers } = harness(250);
    throttle.request();
    advance(0);
    expect(runs).toEqual([0]);
    // 60 requests a second for a second: four runs at most, the last after the last request.
    for (let t = 0; t < 1000; t += 16) {
      throttle.request();
      expect(timers()).toBeLessThanOrEqual(1);
      advance(16);
    }
    advance(1000);
    // The last request (at 992 ms) is answered by a run after it.
    expect(runs).toEqual([0, 250, 500, 750, 1000]);
    expect(timers()).toBe(0);
  });

  it('runs at once again once the interval has passed', () => {
    const { throttle, runs, advance } = harness(250);
    throttle.request();
    advance(600);
    throttle.request();
    advance(0);
    expect(runs).toEqual([0, 600]);
  });

  it('cancel drops the pending run', () => {
    const { throttle, runs, advance } = harness(250);
    throttle.request();
    advance(0);
    throttle.request();
    expect(throttle.pending).toBe(true);
    throttle.cancel();
    expect(throttle.pending).toBe(false);
    advance(1000);
    expect(runs).toEqual([0]);
    throttle.request();
    advance(0);
    expect(runs).toEqual([0, 1000]);
  });
});
