import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { accelTuning, registerAccelKernels } from '../../../../src-main/engine/accel/index';
import { batchNormalizationInstalled } from '../../../../src-main/engine/accel/layers/BatchNormalization';
import {
  buffers,
  expectClose,
  expectNonTrivial,
  onBackend,
  randomHost,
  useAccelKernels,
  type HostTensor,
} from '../harness';

// BatchNormalization(training) on wasm through our kernels against tfjs' own ops on the pure-JS
// cpu backend: output, the gradients of x, γ and β, and the moving statistics it updates.

useAccelKernels();

/** y, dx, dγ, dβ, moving mean, moving variance after one training call with upstream w. */
function trainingCall(...[x, gamma, beta, w]: tf.Tensor[]): tf.Tensor[] {
  const c = x!.shape[x!.rank - 1]!;
  const layer = tf.layers.batchNormalization({ momentum: 0.8, epsilon: 1e-3 });
  layer.build(x!.shape);
  layer.setWeights([gamma!, beta!, tf.fill([c], 0.5), tf.fill([c], 2)]);
  const xv = tf.variable(x!);
  const [gv, bv] = layer.trainableWeights.map((v) => v.read() as tf.Variable);
  let y: tf.Tensor | null = null;
  const { value, grads } = tf.variableGrads(() => {
    y = tf.keep(layer.apply(xv, { training: true }) as tf.Tensor);
    return tf.sum(tf.mul(y, w!));
  }, [xv, gv!, bv!]);
  const [, , movingMean, movingVariance] = layer.getWeights().map((t) => t.clone());
  const out = [
    y!,
    grads[xv.name]!,
    grads[gv!.name]!,
    grads[bv!.name]!,
    movingMean!,
    movingVariance!,
  ];
  value.dispose();
  xv.dispose();
  // Never applied to a symbolic input, so layer.dispose() refuses: its weights go one by one.
  for (const v of layer.weights) v.dispose();
  return out;
}

const inputs = (shape: number[], seed: number, offset = 0): HostTensor[] => {
  const c = shape[shape.length - 1]!;
  const x = randomHost(shape, seed, 'float32', (r) => offset + r() * 4 - 1);
  return [
    x,
    randomHost([c], seed + 1, 'float32', (r) => 0.5 + r()),
    randomHost([c], seed + 2),
    randomHost(shape, seed + 3),
  ];
};

describe('BatchNormalization in training on wasm', () => {
  const cases: { name: string; shape: number[]; offset?: number }[] = [
    { name: 'cnn-fast after pool 1 (many row blocks)', shape: [16, 13, 13, 32] },
    { name: '5 channels, not a multiple of 4', shape: [3, 7, 7, 5] },
    { name: 'one channel', shape: [2, 9, 9, 1] },
    { name: 'a Dense layer [N, C]', shape: [33, 17] },
    { name: 'batch of 1', shape: [1, 4, 4, 8] },
    { name: 'values far from 0 (two-pass variance)', shape: [8, 6, 6, 16], offset: 300 },
  ];
  it.each(cases)('matches tfjs on cpu: $name', async (c) => {
    const data = inputs(c.shape, c.shape.length * 31 + c.shape[0]!, c.offset ?? 0);
    const cpu = await onBackend('cpu', data, trainingCall);
    const before = buffers();
    const wasm = await onBackend('wasm', data, trainingCall);
    expect(buffers()).toBe(before);
    expect(wasm).toHaveLength(6);
    cpu.forEach((ref, i) => {
      expectNonTrivial(ref);
      expectClose(ref, wasm[i]!, c.offset ? 2e-3 : 1e-4);
    });
  });

  it('runs as two kernels, not tfjs’ ops; the built-in path again when switched off', async () => {
    const [x, gamma, beta, w] = inputs([4, 6, 6, 8], 5).map((h) => tf.tensor(h.data, h.shape));
    const kernels = async () =>
      (await tf.profile(() => tf.dispose(trainingCall(x!, gamma!, beta!, w!)))).kernelNames;
    expect(batchNormalizationInstalled()).toBe(true);
    const ours = await kernels();
    expect(ours).not.toContain('FusedBatchNorm');
    expect(ours).not.toContain('SquaredDifference');
    registerAccelKernels(accelTuning({ batchNorm: false }));
    try {
      expect(batchNormalizationInstalled()).toBe(false);
      expect(await kernels()).toContain('FusedBatchNorm');
    } finally {
      registerAccelKernels();
    }
    tf.dispose([x!, gamma!, beta!, w!]);
  });

  it('leaves inference to tfjs: the moving statistics normalise, unchanged', async () => {
    const layer = tf.layers.batchNormalization();
    const x = tf.randomNormal([2, 3, 3, 4], 0, 1, 'float32', 7);
    const y = layer.apply(x, { training: false }) as tf.Tensor;
    // Fresh layer: moving mean 0, variance 1, so y = x / √(1 + ε).
    expectClose(
      {
        shape: x.shape,
        dtype: 'float32',
        values: Array.from(await x.data()).map((v) => v / Math.sqrt(1.001)),
      },
      { shape: y.shape, dtype: y.dtype, values: Array.from(await y.data()) },
      1e-5,
    );
    expect(Array.from(await layer.getWeights()[2]!.data())).toEqual([0, 0, 0, 0]);
    tf.dispose([x, y]);
    for (const v of layer.weights) v.dispose();
  });
});
