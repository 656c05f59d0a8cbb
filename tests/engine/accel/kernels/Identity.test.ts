import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { buffers, useAccelKernels, expectRegisteredOverBuiltins } from '../harness';

// Identity and same-dtype Cast on 'wasm' share their input's buffer instead of copying it.

useAccelKernels();

describe('Identity and Cast on wasm', () => {
  it('clone shares the buffer, and each tensor outlives the other', async () => {
    const ids = buffers();
    const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = tf.clone(a);
    const c = tf.cast(a, 'float32');
    expect(buffers()).toBe(ids + 1);
    expect(b.shape).toEqual([2, 3]);
    expect(c.dtype).toBe('float32');
    a.dispose();
    expect(Array.from(await b.data())).toEqual([1, 2, 3, 4, 5, 6]);
    b.dispose();
    expect(Array.from(await c.data())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(buffers()).toBe(ids + 1);
    c.dispose();
    expect(buffers()).toBe(ids);
  });

  it('shares int32 and bool too, and really casts between dtypes', async () => {
    const ids = buffers();
    const i = tf.tensor1d([3, -1, 0], 'int32');
    const b = tf.tensor1d([true, false, true], 'bool');
    const f = tf.tensor1d([1.7, -2.2, 0]);
    const outs = [
      tf.clone(i),
      tf.clone(b),
      tf.cast(i, 'int32'),
      tf.cast(f, 'int32'),
      tf.cast(i, 'float32'),
      tf.cast(b, 'float32'),
    ];
    expect(await Promise.all(outs.map(async (t) => [t.dtype, Array.from(await t.data())]))).toEqual(
      [
        ['int32', [3, -1, 0]],
        ['bool', [1, 0, 1]],
        ['int32', [3, -1, 0]],
        ['int32', [1, -2, 0]],
        ['float32', [3, -1, 0]],
        ['float32', [1, 0, 1]],
      ],
    );
    tf.dispose([i, b, f, ...outs]);
    expect(buffers()).toBe(ids);
  });

  it('keeps XNNPACK weights valid when one holder of a shared buffer goes away', async () => {
    const w = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const x = tf.tensor2d([1, 1], [1, 2]);
    const w2 = tf.clone(w);
    tf.matMul(x, w).dispose(); // caches the packed weights on the shared buffer
    w.dispose();
    const y = tf.matMul(x, w2);
    expect(Array.from(await y.data())).toEqual([4, 6]);
    tf.dispose([x, w2, y]);
  });

  it('registers idempotently and can be undone', () => {
    expectRegisteredOverBuiltins(['Identity', 'Cast']);
  });
});
