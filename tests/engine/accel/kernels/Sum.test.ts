import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAccelKernels } from '../../../../src-main/engine/accel/index';
import { expectRegisteredOverBuiltins } from '../harness';
import { reducesLeadingAxes } from '../../../../src-main/engine/accel/kernels/Sum';
import { mulberry32 as seeded } from '../../../../src-main/engine/random';

// Our Sum on 'wasm' against the pure-JS 'cpu' backend, from the same seeded data.

function randomValues(size: number, seed: number, int = false): Float32Array | Int32Array {
  const rand = seeded(seed);
  if (int) return Int32Array.from({ length: size }, () => Math.floor(rand() * 200) - 100);
  return Float32Array.from({ length: size }, () => rand() * 2 - 1);
}

interface Result {
  shape: number[];
  dtype: string;
  values: number[];
}

async function sumOn(
  backend: 'cpu' | 'wasm',
  shape: number[],
  values: Float32Array | Int32Array,
  axis: number | number[] | null,
  keepDims: boolean,
): Promise<Result> {
  await tf.setBackend(backend);
  try {
    const x = tf.tensor(values, shape, values instanceof Int32Array ? 'int32' : 'float32');
    const y = tf.sum(x, axis ?? undefined, keepDims);
    const result = { shape: y.shape, dtype: y.dtype, values: Array.from(await y.data()) };
    tf.dispose([x, y]);
    return result;
  } finally {
    await tf.setBackend('wasm');
  }
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

beforeAll(async () => {
  await tf.setBackend('wasm');
  registerAccelKernels();
});

afterAll(() => registerAccelKernels());

describe('Sum on wasm (training kernels)', () => {
  const cases: { name: string; shape: number[]; axis: number | number[] | null; keep?: boolean }[] =
    [
      // The bias gradient of the CNN's first conv layer.
      { name: 'conv dy [N,H,W,C] over [0,1,2]', shape: [16, 26, 26, 32], axis: [0, 1, 2] },
      { name: 'keepDims', shape: [8, 11, 11, 64], axis: [0, 1, 2], keep: true },
      { name: 'negative, unsorted axes', shape: [4, 9, 7, 5], axis: [-2, 0, -3] },
      { name: 'dense bias [N, C] over 0', shape: [32, 128], axis: 0 },
      { name: 'rows not a multiple of 8', shape: [3, 7, 5, 6], axis: [0, 1, 2] },
      { name: 'dense bias over -2 with keepDims', shape: [128, 10], axis: -2, keep: true },
      { name: 'rank 3 over [0, 1], large', shape: [64, 300, 7], axis: [0, 1] },
      { name: 'single row', shape: [1, 1, 1, 40], axis: [0, 1, 2] },
      { name: 'single channel', shape: [50, 30, 1], axis: [0, 1] },
      // Everything below falls back to the built-in kernel.
      { name: 'all axes', shape: [6, 5, 4], axis: null },
      { name: 'inner-most axis', shape: [6, 5, 4], axis: -1 },
      { name: 'middle axes', shape: [3, 6, 5, 4], axis: [1, 2] },
      { name: 'last axis included', shape: [6, 5, 4], axis: [0, 1, 2] },
      { name: 'rank 1', shape: [17], axis: 0 },
      { name: 'empty axis list', shape: [3, 4], axis: [] },
    ];

  for (const c of cases) {
    for (const keepDims of c.keep ? [true] : [false, true]) {
      it(`${c.name}${keepDims ? ' (keepDims)' : ''} matches cpu`, async () => {
        const values = randomValues(size(c.shape), c.shape.length * 7 + size(c.shape));
        const cpu = await sumOn('cpu', c.shape, values, c.axis, keepDims);
        const wasm = await sumOn('wasm', c.shape, values, c.axis, keepDims);
        expect(wasm.shape).toEqual(cpu.shape);
        expect(wasm.dtype).toBe('float32');
        const scale = Math.max(1, ...cpu.values.map(Math.abs));
        wasm.values.forEach((v, i) =>
          expect(Math.abs(v - cpu.values[i]!) / scale).toBeLessThan(1e-5),
        );
      });
    }
  }

  it('falls back to the built-in kernel for int32 (exact, int32 out)', async () => {
    const shape = [4, 6, 6, 3];
    const values = randomValues(size(shape), 5, true);
    const cpu = await sumOn('cpu', shape, values, [0, 1, 2], false);
    const wasm = await sumOn('wasm', shape, values, [0, 1, 2], false);
    expect(wasm).toEqual(cpu);
    expect(wasm.dtype).toBe('int32');
  });

  it('sums an empty batch to zeros (the built-in returned uninitialised memory)', async () => {
    for (const keepDims of [false, true]) {
      const cpu = await sumOn('cpu', [0, 2, 3], new Float32Array(0), [0, 1], keepDims);
      const wasm = await sumOn('wasm', [0, 2, 3], new Float32Array(0), [0, 1], keepDims);
      expect(wasm).toEqual(cpu);
      expect(wasm.values).toEqual([0, 0, 0]);
    }
  });

  it('recognises exactly the leading-axes reductions', () => {
    expect(reducesLeadingAxes([0, 1, 2], 4)).toBe(true);
    expect(reducesLeadingAxes([2, 0, 1, 1], 4)).toBe(true);
    expect(reducesLeadingAxes([-4, -3, -2], 4)).toBe(true);
    expect(reducesLeadingAxes(0, 2)).toBe(true);
    expect(reducesLeadingAxes([0, 1], 4)).toBe(false);
    expect(reducesLeadingAxes([0, 1, 2, 3], 4)).toBe(false);
    expect(reducesLeadingAxes([0, 1, 5], 4)).toBe(false);
    expect(reducesLeadingAxes(null, 4)).toBe(false);
    expect(reducesLeadingAxes([], 1)).toBe(false);
  });

  it('gives the conv bias gradient like cpu and leaks nothing', async () => {
    const shape = [8, 12, 12, 3];
    const x = randomValues(size(shape), 11);
    const f = randomValues(3 * 3 * 3 * 16, 12);
    const b = randomValues(16, 13);
    const grads = async (backend: 'cpu' | 'wasm') => {
      await tf.setBackend(backend);
      const [xt, ft, bt] = [
        tf.tensor4d(x, shape as [number, number, number, number]),
        tf.tensor4d(f, [3, 3, 3, 16]),
        tf.tensor1d(b),
      ];
      const g = tf.grads((bias: tf.Tensor) =>
        tf.sum(tf.square(tf.relu(tf.add(tf.conv2d(xt, ft, 1, 'valid'), bias)))),
      )([bt]);
      const values = Array.from(await g[0]!.data());
      tf.dispose([xt, ft, bt, ...g]);
      await tf.setBackend('wasm');
      return values;
    };
    const cpu = await grads('cpu');
    const before = tf.memory().numTensors;
    const backend = tf.backend() as tf.KernelBackend & { numDataIds(): number };
    const buffers = backend.numDataIds();
    const wasm = await grads('wasm');
    expect(tf.memory().numTensors).toBe(before);
    expect(backend.numDataIds()).toBe(buffers);
    const scale = Math.max(1, ...cpu.map(Math.abs));
    wasm.forEach((v, i) => expect(Math.abs(v - cpu[i]!) / scale).toBeLessThan(1e-5));
  });

  it('registers idempotently and can be undone', () => {
    expectRegisteredOverBuiltins(['Sum']);
  });
});
