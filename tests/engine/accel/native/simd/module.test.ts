import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  relaxedSimdAvailable,
  simdKernels,
  type SimdKernels,
} from '../../../../../src-main/engine/accel/native/simd/module';
import { mulberry32 } from '../../../../../src-main/engine/random';
import { heapBuffer, random, read, useWasmHeap } from '../heap';

const heap = useWasmHeap();
let k: SimdKernels;
beforeAll(() => {
  k = simdKernels(heap.backend);
});

describe('the two builds', () => {
  it('runs the relaxed build on this Node (its V8 flag switched on), the baseline on request', () => {
    expect(relaxedSimdAvailable()).toBe(true);
    const relaxed = simdKernels(heap.backend);
    const baseline = simdKernels(heap.backend, 'baseline');
    expect(relaxed).not.toBe(baseline);
    expect(simdKernels(heap.backend, 'relaxed')).toBe(relaxed);
    expect(simdKernels(heap.backend, 'baseline')).toBe(baseline);
  });
});

describe('the SIMD kernels against their tf ops', () => {
  it('transpose matches tf.transpose, on shapes that are not multiples of the tile', () => {
    for (const [rows, cols] of [
      [32, 784],
      [7, 3],
      [1, 17],
      [33, 1],
      [128, 10],
    ] as const) {
      const x = random(rows * cols, rows + cols);
      const src = heapBuffer(x);
      const dst = heapBuffer(new Float32Array(rows * cols));
      k.transpose(src, dst, rows, cols);
      const expected = tf.tidy(() => tf.transpose(tf.tensor2d(x, [rows, cols])).dataSync());
      expect(Array.from(read(dst, rows * cols))).toEqual(Array.from(expected));
    }
  });

  it('bias_rows, row_sums, relu, relu_grad and mul match their tf ops', () => {
    const [rows, cols] = [5, 13];
    const x = random(rows * cols, 1);
    const bias = random(rows, 2);
    const h = heapBuffer(x);
    k.bias_rows(h, heapBuffer(bias), rows, cols);
    const withBias = tf.tidy(() =>
      tf.add(tf.tensor2d(x, [rows, cols]), tf.tensor2d(bias, [rows, 1])).dataSync(),
    );
    expect(Array.from(read(h, rows * cols))).toEqual(Array.from(withBias));

    const sums = heapBuffer(new Float32Array(rows));
    k.row_sums(h, sums, rows, cols);
    const expectedSums = tf.tidy(() => tf.sum(tf.tensor2d(withBias, [rows, cols]), 1).dataSync());
    expect(Array.from(read(sums, rows))).toEqual(
      Array.from(expectedSums).map((v) => expect.closeTo(v, 5)),
    );

    k.relu(h, rows * cols);
    expect(Array.from(read(h, rows * cols))).toEqual(Array.from(withBias, (v) => Math.max(v, 0)));
    const nan = heapBuffer([NaN, -1, 2]);
    k.relu(nan, 3);
    expect(Array.from(read(nan, 3))).toEqual([NaN, 0, 2]);

    const dz = random(rows * cols, 3);
    const dzPtr = heapBuffer(dz);
    k.relu_grad(dzPtr, h, rows * cols);
    expect(Array.from(read(dzPtr, rows * cols))).toEqual(
      Array.from(dz).map((v, i) => (withBias[i]! > 0 ? v : 0)),
    );
    const mask = random(rows * cols, 4);
    const mPtr = heapBuffer(dz);
    k.mul(mPtr, heapBuffer(mask), rows * cols);
    expect(Array.from(read(mPtr, rows * cols))).toEqual(
      Array.from(dz).map((v, i) => Math.fround(v * mask[i]!)),
    );
  });

  it('dropout_mask draws mulberry32 like random.ts and continues the stream across calls', () => {
    const keep = 0.8;
    const scale = Math.fround(1 / keep);
    const ptr = heapBuffer(new Float32Array(100));
    const state = k.dropout_mask(ptr, 60, 1234, keep, scale);
    k.dropout_mask(ptr + 60 * 4, 40, state, keep, scale);
    const r = mulberry32(1234);
    const expected = Array.from({ length: 100 }, () => (r() + keep >= 1 ? scale : 0));
    expect(Array.from(read(ptr, 100))).toEqual(expected);
    const kept = expected.filter((v) => v > 0).length;
    expect(kept).toBeGreaterThan(65);
    expect(kept).toBeLessThan(95);
  });

  it('adam is tfjs Adam to the bit, with subnormal moments flushed to 0', () => {
    const n = 1001;
    const p = random(n, 5);
    const g = random(n, 6).map((v, i) => (i % 7 === 0 ? 0 : v * 1e-3));
    const m = random(n, 7).map((v) => v * 1e-3);
    m[0] = 1e-38; // decays into the subnormal range: flushed
    const v = random(n, 8).map((x) => x * x * 1e-6);
    const f = Math.fround;
    // β1ᵗ and β2ᵗ are float32 variables in tfjs (and in the fused step).
    const [b1, b2, lr, eps, acc1, acc2] = [0.9, 0.999, 2e-3, 1e-7, f(0.729), f(0.997003)];
    const [pp, gp, mp, vp] = [p, g, m, v].map(heapBuffer) as [number, number, number, number];
    k.adam(
      pp,
      gp,
      mp,
      vp,
      n,
      f(b1),
      f(1 - b1),
      f(b2),
      f(1 - b2),
      f(1 - acc1),
      f(1 - acc2),
      f(-lr),
      f(eps),
    );
    const [ep, em_, ev] = tf.tidy(() => {
      const [P, G, M, V] = [p, g, m, v].map((a) => tf.tensor1d(a));
      const newM = tf.add(tf.mul(M!, b1), tf.mul(G!, 1 - b1));
      const newV = tf.add(tf.mul(V!, b2), tf.mul(tf.square(G!), 1 - b2));
      const c1 = tf.sub(1, tf.scalar(acc1));
      const c2 = tf.sub(1, tf.scalar(acc2));
      const update = tf.div(tf.div(newM, c1), tf.add(tf.sqrt(tf.div(newV, c2)), eps));
      return [tf.add(tf.mul(update, -lr), P!), newM, newV].map((t) => t.dataSync());
    }) as [Float32Array, Float32Array, Float32Array];
    expect(read(mp, 1)[0]).toBe(0);
    expect(Array.from(read(mp, n)).slice(1)).toEqual(Array.from(em_).slice(1));
    expect(Array.from(read(vp, n))).toEqual(Array.from(ev));
    expect(Array.from(read(pp, n)).slice(1)).toEqual(Array.from(ep).slice(1));
  });
});
