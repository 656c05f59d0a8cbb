import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { type Pad } from './conv-cases';
import {
  type HostTensor,
  expectNonTrivial,
  onBackend,
  onBoth,
  randomHost,
  runKernel,
  useAccelKernels,
} from '../harness';

useAccelKernels();

describe('MaxPoolGrad on wasm', () => {
  interface PoolCase {
    name: string;
    x: HostTensor;
    size: number | [number, number];
    strides: number | [number, number];
    pad: Pad;
    /** Feed this instead of the real forward output (the kernel must not trust it blindly). */
    fakeOutput?: number;
  }
  const relu = (r: () => number): number => Math.max(0, r() * 2 - 1);
  const fewLevels = (r: () => number): number => Math.floor(r() * 3);
  const withSpecials = (r: () => number): number => {
    const u = r();
    if (u < 0.15) return Number.NaN;
    if (u < 0.35) return Number.NEGATIVE_INFINITY;
    if (u < 0.4) return Number.POSITIVE_INFINITY;
    return u;
  };
  const poolCases: PoolCase[] = [
    {
      name: '2x2/2 valid, random',
      x: randomHost([3, 8, 10, 5], 11),
      size: 2,
      strides: 2,
      pad: 'valid',
    },
    {
      name: '2x2/2 after ReLU (all-zero ties)',
      x: randomHost([2, 8, 8, 6], 12, 'float32', relu),
      size: 2,
      strides: 2,
      pad: 'valid',
    },
    {
      name: '2x2/2 with 3 levels (many ties)',
      x: randomHost([2, 6, 6, 4], 13, 'float32', fewLevels),
      size: 2,
      strides: 2,
      pad: 'valid',
    },
    {
      name: '2x2/2 odd size, valid drops the last row/col',
      x: randomHost([2, 7, 9, 3], 14, 'float32', relu),
      size: 2,
      strides: 2,
      pad: 'valid',
    },
    {
      name: '2x2/2 odd size, same pads the border',
      x: randomHost([2, 7, 9, 3], 15, 'float32', fewLevels),
      size: 2,
      strides: 2,
      pad: 'same',
    },
    {
      name: '3x3/3 same, ties',
      x: randomHost([2, 8, 10, 3], 16, 'float32', fewLevels),
      size: 3,
      strides: 3,
      pad: 'same',
    },
    {
      name: '2x3/[2,3] non-square',
      x: randomHost([1, 6, 9, 4], 17, 'float32', relu),
      size: [2, 3],
      strides: [2, 3],
      pad: 'valid',
    },
    {
      name: '3x3/2 overlapping',
      x: randomHost([2, 9, 9, 3], 18, 'float32', fewLevels),
      size: 3,
      strides: 2,
      pad: 'same',
    },
    {
      name: '2x2/1 overlapping',
      x: randomHost([2, 5, 6, 2], 19, 'float32', relu),
      size: 2,
      strides: 1,
      pad: 'valid',
    },
    {
      name: 'NaN and infinities',
      x: randomHost([2, 6, 6, 4], 20, 'float32', withSpecials),
      size: 2,
      strides: 2,
      pad: 'valid',
    },
    {
      name: 'output smaller than the window max',
      x: randomHost([2, 6, 6, 4], 21, 'float32', relu),
      size: 2,
      strides: 2,
      pad: 'valid',
      fakeOutput: 0,
    },
    {
      name: 'output larger than every element',
      x: randomHost([2, 6, 6, 4], 22, 'float32', relu),
      size: 2,
      strides: 2,
      pad: 'valid',
      fakeOutput: 10,
    },
  ];

  it.each(poolCases)('matches cpu exactly: $name', async (c) => {
    const pooledShape = tf.backend_util.computePool2DInfo(
      c.x.shape as [number, number, number, number],
      c.size,
      c.strides,
      1,
      c.pad,
    ).outShape;
    const dy = randomHost(pooledShape, 99);
    const { cpu, wasm } = await onBoth([c.x, dy], (xt, dyt) => {
      const output =
        c.fakeOutput === undefined
          ? tf.maxPool(xt as tf.Tensor4D, c.size, c.strides, c.pad)
          : tf.fill(pooledShape, c.fakeOutput);
      return runKernel(
        'MaxPoolGrad',
        { dy: dyt!, input: xt!, output },
        {
          filterSize: c.size,
          strides: c.strides,
          pad: c.pad,
        },
      );
    });
    expectNonTrivial(cpu[0]!);
    expect(wasm[0]!.values).toEqual(cpu[0]!.values);
  });

  it('sends an all-zero window to its first element, as cpu does', async () => {
    const x: HostTensor = {
      data: new Float32Array(2 * 2 * 2),
      shape: [1, 2, 2, 2],
      dtype: 'float32',
    };
    const dy: HostTensor = {
      data: Float32Array.from([3, 5]),
      shape: [1, 1, 1, 2],
      dtype: 'float32',
    };
    const [wasm] = await onBackend('wasm', [x, dy], (xt, dyt) =>
      tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid'))(xt!, dyt),
    );
    expect(wasm!.values).toEqual([3, 5, 0, 0, 0, 0, 0, 0]);
  });
});
