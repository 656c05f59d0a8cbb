import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { planTile } from '../../../../src-main/engine/accel/kernels/Tile';
import {
  buffers,
  expectClose,
  onBackend,
  randomHost,
  sizeOf,
  useAccelKernels,
  type Backend,
  type DType,
  type HostTensor,
  type Out,
  expectRegisteredOverBuiltins,
} from '../harness';

// Tile and Mean on 'wasm' (ours) against the pure-JS 'cpu' backend, and the BatchNorm gradients
// they serve, from the same seeded data.

useAccelKernels();

describe('Tile on wasm', () => {
  const cases: { name: string; shape: number[]; reps: number[]; dtype?: DType }[] = [
    // BatchNorm's gradient: 1/√(var + ε) over the whole activation.
    { name: 'BN [1,1,1,C] → [N,H,W,C]', shape: [1, 1, 1, 32], reps: [16, 26, 26, 1] },
    { name: 'BN, dense layer', shape: [1, 1, 1, 128], reps: [32, 1, 1, 1] },
    { name: 'every axis repeated', shape: [2, 3, 4], reps: [3, 2, 2] },
    { name: 'only the last axis', shape: [5, 7], reps: [1, 4] },
    { name: 'middle axes', shape: [2, 3, 4, 5], reps: [1, 3, 2, 1] },
    { name: 'nothing repeated', shape: [3, 4, 5], reps: [1, 1, 1] },
    { name: 'rank 1', shape: [6], reps: [5] },
    { name: 'rank 5', shape: [2, 1, 3, 1, 2], reps: [2, 3, 1, 2, 2] },
    { name: 'zero reps', shape: [3, 4], reps: [2, 0] },
    { name: 'empty input', shape: [0, 4], reps: [3, 2] },
    { name: 'int32', shape: [1, 3, 4], reps: [5, 2, 1], dtype: 'int32' },
    { name: 'bool', shape: [2, 1, 3], reps: [2, 4, 3], dtype: 'bool' },
    // Short inner blocks in a large tensor: left to the built-in.
    { name: 'fallback: many short blocks', shape: [200, 50, 1], reps: [1, 1, 3] },
  ];
  it.each(cases)('matches cpu: $name', async (c) => {
    const x = randomHost(c.shape, sizeOf(c.shape) + 3, c.dtype);
    const [cpu] = await onBackend('cpu', [x], (t) => tf.tile(t!, c.reps));
    const ids = buffers();
    const [wasm] = await onBackend('wasm', [x], (t) => tf.tile(t!, c.reps));
    expect(buffers()).toBe(ids);
    expect(wasm).toEqual(cpu);
  });

  it('plans block copies for BatchNorm and leaves tiny blocks to the built-in', () => {
    const info = (shape: number[], dtype: tf.DataType = 'float32'): tf.TensorInfo => ({
      dataId: {},
      shape,
      dtype,
    });
    const bn = planTile(info([1, 1, 1, 32]), [128, 26, 26, 1]);
    expect(bn).toMatchObject({
      outShape: [128, 26, 26, 32],
      xShape: [1, 1, 32],
      reps: [128, 26, 26],
    });
    expect(planTile(info([200, 50, 1]), [1, 1, 3])).toBeNull();
    expect(planTile(info([3, 4]), [2])).toBeNull();
    expect(planTile(info([2, 2], 'complex64'), [2, 2])).toBeNull();
  });
});

describe('Mean on wasm', () => {
  const cases: { name: string; shape: number[]; axis: number | number[] | null; keep: boolean }[] =
    [
      // tf.moments in BatchNormalization(training): over N, H, W, with keepDims.
      {
        name: 'BN moments [N,H,W,C] over [0,1,2]',
        shape: [16, 26, 26, 32],
        axis: [0, 1, 2],
        keep: true,
      },
      { name: 'without keepDims', shape: [8, 10, 10, 64], axis: [0, 1, 2], keep: false },
      { name: 'dense BN [N, C] over 0', shape: [128, 128], axis: [0], keep: true },
      { name: 'negative, unsorted axes', shape: [4, 9, 7, 5], axis: [-2, 0, -3], keep: false },
      { name: 'rows not a multiple of 8', shape: [3, 7, 5, 6], axis: [0, 1, 2], keep: true },
      // Falls back to the built-in.
      { name: 'all axes', shape: [6, 5, 4], axis: null, keep: false },
      { name: 'inner-most axis', shape: [6, 5, 4], axis: -1, keep: true },
      { name: 'middle axes', shape: [3, 6, 5, 4], axis: [1, 2], keep: false },
    ];
  it.each(cases)('matches cpu: $name', async (c) => {
    const x = randomHost(c.shape, sizeOf(c.shape) + 5);
    const fn = (t: tf.Tensor): tf.Tensor => tf.mean(t, c.axis ?? undefined, c.keep);
    const [cpu] = await onBackend('cpu', [x], (t) => fn(t!));
    const ids = buffers();
    const [wasm] = await onBackend('wasm', [x], (t) => fn(t!));
    expect(buffers()).toBe(ids);
    expectClose(cpu!, wasm!);
  });

  it('falls back to the built-in for int32 input', async () => {
    const x = randomHost([4, 6, 3], 9, 'int32');
    const [cpu] = await onBackend('cpu', [x], (t) => tf.mean(t!, [0, 1]));
    const [wasm] = await onBackend('wasm', [x], (t) => tf.mean(t!, [0, 1]));
    expectClose(cpu!, wasm!);
  });

  it('gives zeros for an empty batch, like cpu', async () => {
    const x = randomHost([0, 3, 2], 1);
    const [cpu] = await onBackend('cpu', [x], (t) => tf.mean(t!, [0, 1]));
    const [wasm] = await onBackend('wasm', [x], (t) => tf.mean(t!, [0, 1]));
    expect(wasm).toEqual(cpu);
    expect(wasm!.values).toEqual([0, 0]);
  });
});

describe('BatchNorm gradients on wasm', () => {
  it('match cpu for a small conv → BatchNorm → ReLU → dense model (tfjs-layers, training)', async () => {
    // Same architecture as the cnn-strong preset's blocks, scaled down.
    const xShape = [6, 9, 8, 2];
    const x = randomHost(xShape, 21);
    const labels: HostTensor = {
      data: Float32Array.from({ length: 60 }, (_, i) =>
        i % 10 === (Math.floor(i / 10) * 3) % 10 ? 1 : 0,
      ),
      shape: [6, 10],
      dtype: 'float32',
    };
    const build = (): tf.Sequential => {
      const model = tf.sequential();
      model.add(
        tf.layers.conv2d({ inputShape: [9, 8, 2], filters: 4, kernelSize: 3, useBias: false }),
      );
      model.add(tf.layers.batchNormalization());
      model.add(tf.layers.reLU());
      model.add(tf.layers.flatten());
      model.add(tf.layers.dense({ units: 8, useBias: false }));
      model.add(tf.layers.batchNormalization());
      model.add(tf.layers.reLU());
      model.add(tf.layers.dense({ units: 10 }));
      return model;
    };
    // One set of weights for both backends, with non-trivial gamma/beta.
    const shapes = tf.tidy(() =>
      build()
        .getWeights()
        .map((w) => w.shape),
    );
    const weights = shapes.map((s, i) => randomHost(s, 100 + i));

    const grads = async (backend: Backend): Promise<Out[]> => {
      await tf.setBackend(backend);
      const model = build();
      const initial = weights.map((w) => tf.tensor(w.data, w.shape));
      model.setWeights(initial);
      tf.dispose(initial);
      const xs = tf.tensor(x.data, x.shape);
      const ys = tf.tensor(labels.data, labels.shape);
      const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
      const step = (): tf.Tensor[] => {
        const { value, grads: g } = tf.variableGrads(
          () => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor),
          vars,
        );
        return [value, ...vars.map((v) => g[v.name]!)];
      };
      // The first training call replaces the moving statistics' initial buffers; from the
      // second on, a step must leave exactly as many tensors and buffers as it found.
      tf.dispose(step());
      const tensors = tf.memory().numTensors;
      const ids = buffers();
      const out = step();
      const result = await Promise.all(
        out.map(async (t) => ({
          shape: t.shape,
          dtype: t.dtype,
          values: Array.from(await t.data()),
        })),
      );
      tf.dispose(out);
      expect(tf.memory().numTensors).toBe(tensors);
      expect(buffers()).toBe(ids);
      tf.dispose([xs, ys]);
      model.dispose();
      await tf.setBackend('wasm');
      return result;
    };
    const cpu = await grads('cpu');
    const wasm = await grads('wasm');
    expect(wasm.length).toBe(cpu.length);
    expect(cpu.length).toBe(1 + 8); // loss; conv W, γ, β, dense W, γ, β, dense W, b
    for (let i = 0; i < cpu.length; i++) {
      expect(cpu[i]!.values.some((v) => Math.abs(v) > 1e-4)).toBe(true);
      expectClose(cpu[i]!, wasm[i]!, 1e-4);
    }
  });

  it('registers idempotently and can be undone', () => {
    expectRegisteredOverBuiltins(['Tile', 'Mean']);
  });
});
