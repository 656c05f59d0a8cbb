import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { accelTuning, registerAccelKernels } from '../../../../src-main/engine/accel/index';
import { conv2DInstalled } from '../../../../src-main/engine/accel/layers/Conv2D';
import {
  buffers,
  expectClose,
  expectNonTrivial,
  onBackend,
  randomHost,
  useAccelKernels,
  type HostTensor,
} from '../harness';

// Conv2D+bias+ReLU in training on wasm through our bias-ReLU passes, against tfjs' own ops on
// the pure-JS cpu backend: outputs, and the gradients of the input, kernels and biases.

useAccelKernels();

interface Case {
  name: string;
  shape: [number, number, number, number];
  filters: number;
  kernelSize: number;
  strides?: number;
  padding?: 'valid' | 'same';
}

/** A standalone layer (its input differentiable), then the same layer first in a model. */
function run(c: Case) {
  return (...[x, w]: tf.Tensor[]): tf.Tensor[] => {
    const options = {
      filters: c.filters,
      kernelSize: c.kernelSize,
      strides: c.strides ?? 1,
      padding: c.padding ?? 'valid',
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      biasInitializer: tf.initializers.randomUniform({ minval: -0.3, maxval: 0.3, seed: 4 }),
    } as const;
    const layer = tf.layers.conv2d(options);
    layer.build(x!.shape);
    const xv = tf.variable(x!);
    const [kv, bv] = layer.trainableWeights.map((v) => v.read() as tf.Variable);
    let y: tf.Tensor | null = null;
    const { value, grads } = tf.variableGrads(() => {
      y = tf.keep(layer.apply(xv, { training: true }) as tf.Tensor);
      return tf.sum(tf.mul(y, w!));
    }, [xv, kv!, bv!]);
    const standalone = [y!, grads[xv.name]!, grads[kv!.name]!, grads[bv!.name]!];
    value.dispose();
    xv.dispose();
    for (const v of layer.weights) v.dispose();

    // First in a model, ahead of a second conv: the images get no gradient, the rest the same.
    const model = tf.sequential();
    model.add(tf.layers.conv2d({ ...options, inputShape: x!.shape.slice(1) }));
    model.add(tf.layers.conv2d({ ...options, filters: 3, kernelSize: 1, strides: 1 }));
    const inModel = tf.variableGrads(
      () => tf.sum(model.apply(x!, { training: true }) as tf.Tensor),
      model.trainableWeights.map((v) => v.read() as tf.Variable),
    );
    const modelGrads = model.trainableWeights.map(
      (v) => inModel.grads[(v.read() as tf.Variable).name]!,
    );
    inModel.value.dispose();
    model.dispose();
    return [...standalone, ...modelGrads];
  };
}

describe('Conv2D with bias and ReLU in training on wasm', () => {
  const cases: Case[] = [
    { name: 'cnn-fast conv1 shape', shape: [4, 28, 28, 1], filters: 32, kernelSize: 3 },
    { name: 'cnn conv2 shape', shape: [2, 13, 13, 32], filters: 64, kernelSize: 3 },
    { name: '5 filters, 3 channels', shape: [3, 9, 9, 3], filters: 5, kernelSize: 3 },
    {
      name: 'same padding, stride 2',
      shape: [2, 8, 7, 4],
      filters: 6,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
    },
    { name: 'batch of 1, 5×5 kernel', shape: [1, 12, 12, 2], filters: 7, kernelSize: 5 },
  ];
  it.each(cases)('matches tfjs on cpu: $name', async (c) => {
    const outShape = tf.tidy(() => {
      const l = tf.layers.conv2d({
        filters: c.filters,
        kernelSize: c.kernelSize,
        strides: c.strides ?? 1,
        padding: c.padding ?? 'valid',
      });
      return l.computeOutputShape(c.shape) as number[];
    });
    const data: HostTensor[] = [randomHost(c.shape, c.shape[1] * 7), randomHost(outShape, 11)];
    const cpu = await onBackend('cpu', data, run(c));
    const before = buffers();
    const wasm = await onBackend('wasm', data, run(c));
    expect(buffers()).toBe(before);
    expect(wasm).toHaveLength(8);
    cpu.forEach((ref, i) => {
      expectNonTrivial(ref);
      expectClose(ref, wasm[i]!, 1e-4);
    });
  });

  it('runs no Relu, Step or bias Add; tfjs’ ops again when switched off', async () => {
    const c: Case = { name: '', shape: [2, 10, 10, 3], filters: 4, kernelSize: 3 };
    const x = tf.randomUniform(c.shape, -1, 1, 'float32', 1);
    const w = tf.randomUniform([2, 8, 8, 4], -1, 1, 'float32', 2);
    const kernels = async () => (await tf.profile(() => tf.dispose(run(c)(x, w)))).kernelNames;
    expect(conv2DInstalled()).toBe(true);
    const ours = await kernels();
    for (const name of ['Relu', 'Step', 'Add']) expect(ours).not.toContain(name);
    registerAccelKernels(accelTuning({ convActivation: false }));
    try {
      expect(conv2DInstalled()).toBe(false);
      expect(await kernels()).toContain('Relu');
    } finally {
      registerAccelKernels();
    }
    tf.dispose([x, w]);
  });

  it('keeps a diverged run visibly diverged: NaN in, NaN out and in the gradients', () => {
    const layer = tf.layers.conv2d({ filters: 2, kernelSize: 1, activation: 'relu' });
    const x = tf.tensor4d([NaN, 1, -1, 2], [1, 2, 2, 1]);
    layer.build(x.shape);
    const [kv] = layer.trainableWeights.map((v) => v.read() as tf.Variable);
    let y: tf.Tensor | null = null;
    const { value, grads } = tf.variableGrads(() => {
      y = tf.keep(layer.apply(x, { training: true }) as tf.Tensor);
      return tf.sum(y);
    }, [kv!]);
    expect(Number.isNaN(y!.dataSync()[0])).toBe(true);
    expect(Array.from(grads[kv!.name]!.dataSync()).every(Number.isNaN)).toBe(true);
    tf.dispose([value, x, y!, ...Object.values(grads)]);
    for (const v of layer.weights) v.dispose();
  });
});
