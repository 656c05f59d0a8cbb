import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { XnnMatMul } from '../../../../../src-main/engine/accel/native/xnnpack/mat-mul';
import { heapBuffer, random, read, useWasmHeap, writeHeap } from '../heap';

const heap = useWasmHeap();

describe('XnnMatMul', () => {
  it('computes A·B and does not reuse a stale packing when B changes in place', () => {
    const [m, kk, n] = [6, 9, 5];
    const a = random(m * kk, 9);
    const b1 = random(kk * n, 10);
    const b2 = random(kk * n, 11);
    const xnn = new XnnMatMul(heap.backend);
    const aPtr = heapBuffer(a);
    const bPtr = heapBuffer(b1);
    const cPtr = heapBuffer(new Float32Array(m * n));
    const aId = xnn.register(aPtr, m * kk);
    const cId = xnn.register(cPtr, m * n);
    const product = (b: Float32Array) =>
      tf.tidy(() => tf.matMul(tf.tensor2d(a, [m, kk]), tf.tensor2d(b, [kk, n])).dataSync());
    xnn.run(aId, bPtr, cId, m, kk, n);
    expect(Array.from(read(cPtr, m * n))).toEqual(
      Array.from(product(b1)).map((v) => expect.closeTo(v, 5)),
    );
    writeHeap(bPtr, b2);
    xnn.run(aId, bPtr, cId, m, kk, n);
    expect(Array.from(read(cPtr, m * n))).toEqual(
      Array.from(product(b2)).map((v) => expect.closeTo(v, 5)),
    );
    xnn.dispose();
  });
});
