import { describe, expect, it } from 'vitest';
import {
  LatencyLog,
  latencyDataset,
  percentile,
  PredictScheduler,
  type LatencySample,
} from '../../../src-renderer/src/lib/draw-scheduler';

/** A scheduler whose predictions, frames and clock the test drives. */
function harness() {
  let clock = 0;
  let frames: (() => void)[] = [];
  const calls: { resolve: (shown: boolean) => void; reject: (e: Error) => void }[] = [];
  const samples: LatencySample[] = [];
  const errors: string[] = [];
  const scheduler = new PredictScheduler({
    predict: () => new Promise((resolve, reject) => calls.push({ resolve, reject })),
    requestFrame: (f) => frames.push(f),
    now: () => clock,
    onSample: (s) => samples.push(s),
    onError: (e) => errors.push(e.message),
  });
  return {
    scheduler,
    calls,
    samples,
    errors,
    tick: (ms: number) => (clock += ms),
    frame: () => {
      const due = frames;
      frames = [];
      due.forEach((f) => f());
    },
    answer: async (i: number, shown = true) => {
      calls[i]!.resolve(shown);
      for (let k = 0; k < 3; k++) await Promise.resolve();
    },
  };
}

describe('PredictScheduler', () => {
  it('predicts at once when idle', () => {
    const h = harness();
    h.scheduler.invalidate(0);
    expect(h.calls).toHaveLength(1);
    expect(h.scheduler.busy).toBe(true);
  });

  it('keeps one request in flight and folds everything meanwhile into one more', async () => {
    const h = harness();
    h.scheduler.invalidate(0);
    for (let i = 0; i < 20; i++) {
      h.scheduler.invalidate(i);
      h.frame();
    }
    expect(h.calls).toHaveLength(1);
    await h.answer(0);
    expect(h.calls).toHaveLength(2);
    await h.answer(1);
    h.frame();
    expect(h.calls).toHaveLength(2);
    expect(h.scheduler.busy).toBe(false);
  });

  it('starts at most one prediction per animation frame', async () => {
    const h = harness();
    h.scheduler.invalidate(0);
    await h.answer(0);
    h.scheduler.invalidate(1);
    h.scheduler.invalidate(2);
    expect(h.calls).toHaveLength(1);
    h.frame();
    expect(h.calls).toHaveLength(2);
    await h.answer(1);
    h.frame();
    expect(h.calls).toHaveLength(2);
  });

  it('measures from the oldest change the shown answer did not yet reflect', async () => {
    const h = harness();
    h.scheduler.invalidate(h.tick(0)); // t = 0
    h.tick(3);
    h.scheduler.invalidate(3); // arrives while the first is out
    h.tick(1);
    h.scheduler.invalidate(4);
    h.tick(2);
    await h.answer(0); // t = 6: first answer shown, 6 ms after its change
    h.frame(); // its painted frame, and the frame that lets the next prediction start
    expect(h.samples).toEqual([{ shown: 6, painted: 6, sameFrame: true }]);
    expect(h.calls).toHaveLength(2);
    h.tick(4);
    await h.answer(1); // t = 10: reflects the change at t = 3
    h.tick(5);
    h.frame(); // painted at t = 15
    // Its stroke's frame (t = 6) passed before the answer: painted a frame later than the ink.
    expect(h.samples[1]).toEqual({ shown: 7, painted: 12, sameFrame: false });
  });

  it('counts a synchronous answer as painted with its stroke, even when deferred to the next frame', async () => {
    let clock = 0;
    let frames: (() => void)[] = [];
    const samples: LatencySample[] = [];
    const scheduler = new PredictScheduler({
      // A model running in the window: the answer is in the DOM before predict() returns.
      predict: async () => true,
      requestFrame: (f) => frames.push(f),
      now: () => clock,
      onSample: (x) => samples.push(x),
    });
    const frame = async () => {
      const due = frames;
      frames = [];
      for (const f of due) {
        f();
        await Promise.resolve(); // microtasks run after each callback, as in a browser
        await Promise.resolve();
      }
    };
    scheduler.invalidate(0); // predicted at once
    await Promise.resolve();
    clock = 8;
    scheduler.invalidate(8); // same frame: waits for the next one
    clock = 16;
    await frame(); // that frame predicts it, then paints both
    await frame();
    expect(samples).toEqual([
      { shown: 0, painted: 16, sameFrame: true },
      { shown: 8, painted: 8, sameFrame: true },
    ]);
  });

  it('does not measure answers that were not shown, or changes no pointer made', async () => {
    const h = harness();
    h.scheduler.invalidate(0);
    await h.answer(0, false);
    h.frame();
    h.scheduler.invalidate(null);
    await h.answer(1);
    h.frame();
    expect(h.calls).toHaveLength(2);
    expect(h.samples).toEqual([]);
  });

  it('cancel drops pending work and the measurement of the answer in flight', async () => {
    const h = harness();
    h.scheduler.invalidate(0);
    h.scheduler.invalidate(1);
    h.scheduler.cancel();
    await h.answer(0);
    h.frame();
    expect(h.calls).toHaveLength(1);
    expect(h.samples).toEqual([]);
  });

  it('reports a failed prediction and keeps going', async () => {
    const h = harness();
    h.scheduler.invalidate(0);
    h.calls[0]!.reject(new Error('worker gone'));
    await Promise.resolve();
    await Promise.resolve();
    expect(h.errors).toEqual(['worker gone']);
    expect(h.scheduler.busy).toBe(false);
    h.frame();
    h.scheduler.invalidate(1);
    expect(h.calls).toHaveLength(2);
  });
});

describe('latency statistics', () => {
  it('percentile is nearest-rank', () => {
    expect(percentile([], 0.95)).toBeNull();
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 1 … 100, unsorted
    expect(percentile(xs, 0.95)).toBe(95);
    expect(percentile(xs, 0.5)).toBe(50);
    expect(percentile(xs, 1)).toBe(100);
    expect(percentile([7], 0.95)).toBe(7);
  });

  it('LatencyLog keeps a bounded window and counts every sample', () => {
    const log = new LatencyLog(3);
    for (let i = 1; i <= 5; i++)
      log.add({ shown: i, painted: i === 5 ? null : i + 10, sameFrame: i === 5 ? null : i > 2 });
    expect(log.total).toBe(5);
    expect(log.shown).toEqual([3, 4, 5]);
    expect(log.painted).toEqual([12, 13, 14]);
    expect(log.sameFrame).toEqual([0, 1, 1]);
    log.clear();
    expect(log.total).toBe(0);
  });

  it('latencyDataset gives the hidden element its values, empty before any sample', () => {
    const log = new LatencyLog(10);
    expect(latencyDataset(log)).toMatchObject({ count: '0', p50: '', sameFrame: '', samples: '' });
    log.add({ shown: 1.234, painted: 2, sameFrame: true });
    log.add({ shown: 3, painted: null, sameFrame: false });
    expect(latencyDataset(log)).toEqual({
      count: '2',
      p50: '1.23',
      p95: '3.00',
      paintedP95: '2.00',
      samples: '1.23 3.00',
      paintedSamples: '2.00',
      sameFrame: '0.5000',
      sameFrameSamples: '10',
    });
  });
});
