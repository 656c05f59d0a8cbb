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
    /**
     * Feed each window's minimum instead of its maximum in these channels: every window holds
     * an element equal to it, and most hold a larger one, which must send the call to the exact
     * path.
     */
    minChannels?: number[];
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
  /** A few NaNs and −∞ among ReLU values: most windows take the SIMD path, some are flagged. */
  const fewSpecials = (r: () => number): number => {
    const u = r();
    if (u < 0.01) return Number.NaN;
    if (u < 0.02) return Number.NEGATIVE_INFINITY;
    return Math.max(0, u * 2 - 1);
  };
  /**
   * Windows of only −∞ in the given channels of x[1,4,6,5] (0–3 are the kernel's vector lanes, 4
   * its scalar one; any flagged window sends the whole call to the exact path, so each kind gets
   * its own case): cpu routes nothing there, although every element equals the pooled maximum.
   */
  const minusInfinityWindows = (channels: number[]): HostTensor => {
    const x = randomHost([1, 4, 6, 5], 30, 'float32', relu);
    const at = (y: number, z: number, k: number) => (y * 6 + z) * 5 + k;
    for (const [n, k] of channels.entries()) {
      const [y0, z0] = n % 2 === 0 ? [0, 0] : [2, 4];
      for (const [i, j] of [
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
      ] as const) {
        x.data[at(y0 + i, z0 + j, k)] = Number.NEGATIVE_INFINITY;
      }
    }
    return x;
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
    // Disjoint windows inside the input: max-pool-grad.c, which writes all of dx itself.
    {
      name: 'SIMD: cnn pool1 shape, 32 channels after ReLU',
      x: randomHost([2, 26, 26, 32], 23, 'float32', relu),
      size: 2,
      strides: 2,
      pad: 'valid',
    },
    {
      name: 'SIMD: cnn pool2 shape, odd map leaves the last row/col',
      x: randomHost([2, 11, 11, 64], 24, 'float32', relu),
      size: 2,
      strides: 2,
      pad: 'valid',
    },
    {
      name: 'SIMD: stride 3 > window 2, gaps between rows and columns, 6 ch',
      x: randomHost([2, 9, 11, 6], 25, 'float32', fewLevels),
      size: 2,
      strides: 3,
      pad: 'valid',
    },
    {
      name: 'SIMD: strides [3,2], 9 ch (vector and scalar lanes), ties',
      x: randomHost([2, 10, 7, 9], 26, 'float32', fewLevels),
      size: 2,
      strides: [3, 2],
      pad: 'valid',
    },
    {
      name: 'SIMD: 3x2 window, strides [3,4], 7 ch',
      x: randomHost([2, 10, 13, 7], 27, 'float32', relu),
      size: [3, 2],
      strides: [3, 4],
      pad: 'valid',
    },
    {
      name: 'SIMD: a few NaN and -Infinity, 9 ch',
      x: randomHost([2, 12, 12, 9], 28, 'float32', fewSpecials),
      size: 2,
      strides: 2,
      pad: 'valid',
    },
    {
      name: 'SIMD: windows of only -Infinity route nothing (vector lanes)',
      x: minusInfinityWindows([0, 2]),
      size: 2,
      strides: 2,
      pad: 'valid',
    },
    {
      name: 'SIMD: windows of only -Infinity route nothing (scalar lane)',
      x: minusInfinityWindows([4, 4]),
      size: 2,
      strides: 2,
      pad: 'valid',
    },
    {
      name: 'SIMD: output below the window max in vector lanes',
      x: randomHost([2, 6, 6, 5], 31),
      size: 2,
      strides: 2,
      pad: 'valid',
      minChannels: [1],
    },
    {
      name: 'SIMD: output below the window max in the scalar lane',
      x: randomHost([2, 6, 6, 5], 32),
      size: 2,
      strides: 2,
      pad: 'valid',
      minChannels: [4],
    },
    {
      name: 'SIMD: one channel, 1x1 window, stride 2',
      x: randomHost([2, 7, 8, 1], 29, 'float32', relu),
      size: 1,
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
      // Leave NaN in the memory dx is likely to get, so an element the kernel fails to write shows.
      tf.fill(c.x.shape, Number.NaN).dispose();
      const max = tf.maxPool(xt as tf.Tensor4D, c.size, c.strides, c.pad);
      const min = tf.neg(tf.maxPool(tf.neg(xt!) as tf.Tensor4D, c.size, c.strides, c.pad));
      const channels = c.x.shape[3]!;
      const useMin = tf.tensor1d(
        Array.from({ length: channels }, (_, k) => (c.minChannels?.includes(k) ? 1 : 0)),
        'bool',
      );
      const output =
        c.fakeOutput !== undefined
          ? tf.fill(pooledShape, c.fakeOutput)
          : c.minChannels !== undefined
            ? tf.where(useMin, min, max)
            : max;
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
