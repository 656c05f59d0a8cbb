import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InsideView, type InsideSource } from '../../../src-renderer/src/lib/inside-view.svelte';
import type { LocalModel } from '../../../src-renderer/src/lib/local-model';
import type { Inspection, Saliency } from '../../../src-renderer/src/lib/model-inspect';

/** A window model that records what it is asked; its saliency comes in two parts. */
function fakeModel(name = 'a') {
  const calls: { pixels: Float32Array; saliency: boolean }[] = [];
  /** Saliency parts computed, by the drawing's first pixel. */
  const parts: number[] = [];
  let fail: string | null = null;
  const model: LocalModel = {
    runId: name,
    epoch: 1,
    backend: 'cpu',
    predict: () => new Float32Array(10),
    inspect(pixels): Inspection {
      if (fail) throw new Error(fail);
      calls.push({ pixels, saliency: false });
      const activations = [{ name: 'dense', className: 'Dense', shape: [10], data: pixels }];
      return { activations, digit: 0, saliency: null };
    },
    *explain(pixels, digit): Generator<void, Saliency, void> {
      parts.push(pixels[0]!);
      yield;
      parts.push(pixels[0]!);
      calls.push({ pixels, saliency: true });
      return {
        method: 'integrated-gradients',
        steps: 16,
        digit,
        values: pixels,
        sum: 1,
        maxAbs: 1,
        delta: 1,
      };
    },
    filters: () => ({
      kind: 'conv',
      layer: 'conv',
      height: 3,
      width: 3,
      total: 1,
      shown: 1,
      data: new Float32Array(9),
    }),
    dispose: () => undefined,
  };
  return { model, calls, parts, failWith: (message: string) => (fail = message) };
}

const pixels = (v: number) => new Float32Array(784).fill(v);

function setup(initial: Partial<InsideSource> = {}) {
  const fake = fakeModel();
  const source: InsideSource = {
    model: fake.model,
    hasModel: true,
    shown: true,
    drawing: true,
    ...initial,
  };
  const inside = new InsideView(() => source, {
    afterPaint: (task) => setTimeout(task, 0),
    now: () => Date.now(),
  });
  return { inside, source, ...fake };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('InsideView', () => {
  it('says what it waits for: a model, the model loading here, a drawing', () => {
    expect(setup({ model: null, hasModel: false }).inside.status).toBe('no-model');
    const { inside, source, model } = setup({ model: null });
    inside.refresh();
    expect(inside.status).toBe('loading');
    source.model = model;
    inside.refresh();
    expect(inside.status).toBe('empty');
    expect(inside.filters?.kind).toBe('conv');
    inside.show(pixels(1));
    expect(inside.status).toBe('ready');
  });

  it('looks after the caller’s task, activations only while the pen is down', () => {
    const { inside, calls } = setup();
    inside.show(pixels(1));
    expect(calls).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(calls).toEqual([{ pixels: pixels(1), saliency: false }]);
    expect(inside.activations?.[0]!.data).toEqual(pixels(1));
    expect(inside.saliency).toBeNull();
  });

  it('looks at most four times a second while drawing, and at the final drawing', () => {
    const { inside, calls } = setup();
    for (let i = 1; i <= 60; i++) {
      inside.show(pixels(i));
      vi.advanceTimersByTime(16);
    }
    vi.advanceTimersByTime(1000);
    expect(calls.length).toBeLessThanOrEqual(5);
    expect(calls.at(-1)!.pixels).toEqual(pixels(60));
  });

  it('explains the answer once the pen has rested, and marks it stale when drawing resumes', () => {
    const { inside, source, calls } = setup();
    inside.show(pixels(1));
    vi.advanceTimersByTime(300);
    source.drawing = false;
    inside.penLifted();
    vi.advanceTimersByTime(300);
    // Between strokes: still no saliency.
    expect(calls.every((c) => !c.saliency)).toBe(true);
    vi.advanceTimersByTime(200);
    expect(calls.at(-1)).toEqual({ pixels: pixels(1), saliency: true });
    expect(inside.saliency?.sum).toBe(1);
    expect(inside.saliencyInput).toEqual(pixels(1));
    expect(inside.saliencyStale).toBe(false);
    source.drawing = true;
    inside.show(pixels(2));
    vi.advanceTimersByTime(300);
    expect(inside.saliencyStale).toBe(true);
    expect(inside.activations?.[0]!.data).toEqual(pixels(2));
  });

  it('computes the saliency a part per task and gives up when the pen goes down', () => {
    const { inside, source, parts } = setup({ drawing: false });
    inside.show(pixels(1));
    vi.advanceTimersByTime(1);
    expect(inside.activations).not.toBeNull();
    // Nothing drawn with the pen yet (no pen-up to wait for): the first part, in a task of its own.
    expect(parts).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(parts).toEqual([1]);
    source.drawing = true;
    vi.advanceTimersByTime(1);
    expect(parts).toEqual([1]);
    expect(inside.saliency).toBeNull();
    vi.advanceTimersByTime(1000);
    expect(parts).toEqual([1]);
  });

  it('drops the look on its way and what is shown when the pad is cleared', () => {
    const { inside, calls } = setup();
    inside.show(pixels(1));
    vi.advanceTimersByTime(1);
    inside.show(pixels(2));
    inside.clear();
    vi.advanceTimersByTime(1000);
    expect(calls).toHaveLength(1);
    expect(inside.activations).toBeNull();
    expect(inside.status).toBe('empty');
  });

  it('computes nothing while hidden, and catches up when shown', () => {
    const { inside, source, calls } = setup({ shown: false });
    inside.show(pixels(1));
    vi.advanceTimersByTime(1000);
    expect(calls).toHaveLength(0);
    source.shown = true;
    inside.refresh();
    vi.advanceTimersByTime(1);
    expect(calls).toHaveLength(1);
  });

  it('drops results of the previous model when the model changes', () => {
    const { inside, source } = setup();
    inside.show(pixels(1));
    vi.advanceTimersByTime(1);
    expect(inside.activations).not.toBeNull();
    const other = fakeModel('b');
    source.model = other.model;
    inside.refresh();
    expect(inside.activations).toBeNull();
    vi.advanceTimersByTime(300);
    expect(other.calls).toHaveLength(1);
    expect(inside.activations).not.toBeNull();
  });

  it('reports a model it cannot look inside', () => {
    const { inside, failWith } = setup();
    failWith('no saliency for a LeakyReLU layer');
    inside.show(pixels(1));
    vi.advanceTimersByTime(1);
    expect(inside.error).toMatch(/LeakyReLU/);
  });
});
