import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  rangesWithGradients,
  reduceAndUpdate,
  slices,
} from '../../../src-main/engine/parallel/shard-update';

describe('slices and ranges', () => {
  it('splits the weights into contiguous, even slices', () => {
    expect(slices(10, 3)).toEqual([
      [0, 4],
      [4, 7],
      [7, 10],
    ]);
    expect(slices(2, 4)).toEqual([
      [0, 1],
      [1, 2],
      [2, 2],
      [2, 2],
    ]);
  });

  it('keeps the parts of a slice whose weights have gradients, merged', () => {
    const layout = { offsets: [0, 4, 6, 9], sizes: [4, 2, 3, 5] };
    expect(rangesWithGradients([2, 12], layout, [true, true, false, true])).toEqual([
      [2, 6],
      [9, 12],
    ]);
    expect(rangesWithGradients([6, 9], layout, [true, true, false, true])).toEqual([]);
    expect(rangesWithGradients([0, 14], layout, [true, true, true, true])).toEqual([[0, 14]]);
  });
});

describe('reduceAndUpdate', () => {
  it("adds the threads' gradients and takes tfjs Adam's steps, slice by slice", () => {
    const n = 50;
    const random = (seed: number) =>
      Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 97 + i * 13.1) * (i % 7) * 0.1);
    const initial = random(1);
    const w = tf.variable(tf.tensor1d(initial));
    const optimizer = tf.train.adam(0.01);
    const weights = initial.slice();
    const m = new Float32Array(n);
    const v = new Float32Array(n);
    let [accBeta1, accBeta2] = [0.9, 0.999];
    for (let step = 0; step < 4; step++) {
      const shares = [random(10 + step), random(20 + step), random(30 + step)];
      const sum = shares[0]!.map((g, i) => g + shares[1]![i]! + shares[2]![i]!);
      optimizer.applyGradients([{ name: w.name, tensor: tf.tensor1d(sum) }]);
      const adam = {
        learningRate: 0.01,
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-7,
        accBeta1,
        accBeta2,
      };
      // Three threads, each on its own slice.
      for (const slice of slices(n, 3)) reduceAndUpdate(shares, weights, m, v, [slice], adam);
      accBeta1 *= 0.9;
      accBeta2 *= 0.999;
    }
    const want = w.dataSync();
    for (let i = 0; i < n; i++) expect(weights[i]).toBeCloseTo(want[i]!, 6);
    tf.dispose([w]);
    optimizer.dispose();
  });

  it('leaves weights outside its ranges alone', () => {
    const weights = new Float32Array([1, 2, 3, 4]);
    const m = new Float32Array(4);
    const v = new Float32Array(4);
    const grads = [new Float32Array([1, 1, 1, 1])];
    const adam = {
      learningRate: 0.1,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-7,
      accBeta1: 0.9,
      accBeta2: 0.999,
    };
    reduceAndUpdate(grads, weights, m, v, [[1, 3]], adam);
    expect(weights[0]).toBe(1);
    expect(weights[3]).toBe(4);
    // The first step of Adam moves a weight by lr against its gradient's sign.
    expect(weights[1]).toBeCloseTo(1.9, 5);
    expect(weights[2]).toBeCloseTo(2.9, 5);
    expect(Array.from(m)).toEqual([0, expect.closeTo(0.1, 6), expect.closeTo(0.1, 6), 0]);
  });
});
