import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { accelTuning, registerAccelKernels } from '../../../../src-main/engine/accel/index';
import { poolInstalled } from '../../../../src-main/engine/accel/layers/MaxPooling2D';
import {
  buffers,
  expectClose,
  expectNonTrivial,
  onBackend,
  randomHost,
  useAccelKernels,
  type HostTensor,
} from '../harness';

// Conv2D+bias+ReLU followed by a 2×2 stride-2 max pool, in training on wasm, where the conv layer
// pools its own output in one pass each way (layers/Conv2D.ts, layers/MaxPooling2D.ts), against
// tfjs' own ops on the pure-JS cpu backend: the model's output and every weight's gradient.

useAccelKernels();

interface Case {
  name: string;
  shape: [number, number, number, number];
  filters: [number, number];
  /** Small integers for x and the kernels, so that many windows hold equal maxima. */
  ties?: boolean;
}

const integers = (r: () => number) => Math.floor(r() * 3) - 1;

/**
 * conv(ReLU) → pool → conv(ReLU) → pool → flatten → dense: the first fused layer reads the
 * images (no input gradient), the second's input gradient flows back into the first.
 */
function model(c: Case, init: 'glorot' | 'integers'): tf.Sequential {
  const kernelInitializer =
    init === 'glorot'
      ? tf.initializers.glorotUniform({ seed: 3 })
      : tf.initializers.randomUniform({ minval: -1.49, maxval: 1.49, seed: 3 });
  const conv = { kernelSize: 3, activation: 'relu', kernelInitializer } as const;
  const m = tf.sequential();
  m.add(
    tf.layers.conv2d({
      ...conv,
      filters: c.filters[0],
      inputShape: c.shape.slice(1),
      biasInitializer: tf.initializers.randomUniform({ minval: -0.3, maxval: 0.3, seed: 4 }),
    }),
  );
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(
    tf.layers.conv2d({
      ...conv,
      filters: c.filters[1],
      biasInitializer: tf.initializers.randomUniform({ minval: -0.3, maxval: 0.3, seed: 5 }),
    }),
  );
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(
    tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }) }),
  );
  return m;
}

function train(c: Case) {
  return (x: tf.Tensor): tf.Tensor[] => {
    const m = model(c, c.ties ? 'integers' : 'glorot');
    if (c.ties) {
      // Integer kernels, zero biases: every product and sum is exact, so equal values stay equal.
      for (const layer of m.layers.filter((l) => l.getClassName() === 'Conv2D')) {
        tf.tidy(() => {
          const [k, b] = layer.getWeights();
          layer.setWeights([tf.round(k!), tf.zerosLike(b!)]);
        });
      }
    }
    const weights = m.trainableWeights.map((v) => v.read() as tf.Variable);
    let y: tf.Tensor | null = null;
    const { value, grads } = tf.variableGrads(() => {
      y = tf.keep(m.apply(x, { training: true }) as tf.Tensor);
      return tf.sum(tf.mul(y, tf.range(1, 4)));
    }, weights);
    const out = [y!, ...weights.map((w) => grads[w.name]!)];
    value.dispose();
    m.dispose();
    return out;
  };
}

describe('Conv2D+ReLU then 2×2 max pool in training on wasm', () => {
  const cases: Case[] = [
    { name: 'cnn conv1 then conv2 shapes', shape: [3, 28, 28, 1], filters: [32, 64] },
    { name: 'odd maps (11×11, 9×7)', shape: [2, 13, 11, 2], filters: [8, 4] },
    { name: 'integer values, tied maxima', shape: [2, 12, 12, 1], filters: [4, 8], ties: true },
    {
      name: 'tied maxima, first layer pooled as it sums',
      shape: [2, 12, 10, 1],
      filters: [8, 4],
      ties: true,
    },
  ];
  it.each(cases)('matches tfjs on cpu: $name', async (c) => {
    const gen = c.ties ? integers : undefined;
    const data: HostTensor[] = [randomHost(c.shape, c.shape[1] * 7, 'float32', gen)];
    const cpu = await onBackend('cpu', data, train(c));
    const before = buffers();
    const wasm = await onBackend('wasm', data, train(c));
    expect(buffers()).toBe(before);
    expect(wasm).toHaveLength(cpu.length);
    cpu.forEach((ref, i) => {
      expectNonTrivial(ref);
      // Tied maxima route each gradient to one element: a different choice moves whole values.
      expectClose(ref, wasm[i]!, c.ties ? 1e-6 : 1e-4);
    });
  });

  it('gives the unfused layers’ output and kernel gradients bit for bit', () => {
    // 8 filters on one channel: the first layer sums and pools in one pass (conv-direct.c) and
    // takes its filter gradient image by image (conv-filter-grad.c); the second pools its
    // convolution's output (bias-relu-pool.c). Same sums in the same order as the unfused
    // layers; only the biases' gradients add up in another order.
    const c: Case = { name: '', shape: [3, 28, 28, 1], filters: [16, 12] };
    const x = tf.randomUniform(c.shape, -1, 1, 'float32', 5);
    const run = () => {
      const out = train(c)(x);
      const values = out.map((t) => Array.from(t.dataSync()));
      tf.dispose(out);
      return values;
    };
    const fused = run();
    registerAccelKernels(accelTuning({ convPool: false }));
    let unfused: number[][];
    try {
      unfused = run();
    } finally {
      registerAccelKernels();
    }
    // y, then the gradients: conv1 kernel, bias, conv2 kernel, bias, dense kernel, bias.
    for (const i of [0, 1, 3, 5]) {
      expect(fused[i]!.length).toBe(unfused[i]!.length);
      const differ = fused[i]!.filter((v, j) => v !== unfused[i]![j]).length;
      expect(differ, `output ${i}`).toBe(0);
    }
    for (const i of [2, 4]) {
      fused[i]!.forEach((v, j) => expect(v).toBeCloseTo(unfused[i]![j]!, 4));
    }
    tf.dispose(x);
  });

  it('runs no MaxPool or MaxPoolGrad; both again when switched off', async () => {
    const c: Case = { name: '', shape: [2, 10, 10, 1], filters: [4, 4] };
    const x = tf.randomUniform(c.shape, -1, 1, 'float32', 1);
    const kernels = async () => (await tf.profile(() => tf.dispose(train(c)(x)))).kernelNames;
    expect(poolInstalled()).toBe(true);
    const ours = await kernels();
    for (const name of ['MaxPool', 'MaxPoolGrad', 'Relu']) expect(ours).not.toContain(name);
    registerAccelKernels(accelTuning({ convPool: false }));
    try {
      expect(poolInstalled()).toBe(false);
      const theirs = await kernels();
      expect(theirs).toContain('MaxPool');
      expect(theirs).toContain('MaxPoolGrad');
    } finally {
      registerAccelKernels();
    }
    tf.dispose(x);
  });

  it('pools as tfjs does where a conv output has another reader, or the pool is not 2×2/2', async () => {
    // A functional model: conv1's output feeds the pool and, added, a skip path; then a 3×3
    // stride-1 pool the fusion does not cover. Both must leave the pools to tfjs.
    const run = (x: tf.Tensor): tf.Tensor[] => {
      const input = tf.input({ shape: [8, 8, 1] });
      const conv1 = tf.layers
        .conv2d({
          filters: 4,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        })
        .apply(input) as tf.SymbolicTensor;
      const pooled = tf.layers.maxPooling2d({ poolSize: 2 }).apply(conv1) as tf.SymbolicTensor;
      const skip = tf.layers.averagePooling2d({ poolSize: 2 }).apply(conv1) as tf.SymbolicTensor;
      const sum = tf.layers.add().apply([pooled, skip]) as tf.SymbolicTensor;
      const conv2 = tf.layers
        .conv2d({
          filters: 4,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
        })
        .apply(sum) as tf.SymbolicTensor;
      const pooled2 = tf.layers
        .maxPooling2d({ poolSize: 3, strides: 1 })
        .apply(conv2) as tf.SymbolicTensor;
      const m = tf.model({ inputs: input, outputs: pooled2 });
      const weights = m.trainableWeights.map((v) => v.read() as tf.Variable);
      let y: tf.Tensor | null = null;
      const { value, grads } = tf.variableGrads(() => {
        y = tf.keep(m.apply(x, { training: true }) as tf.Tensor);
        return tf.sum(y);
      }, weights);
      const out = [y!, ...weights.map((w) => grads[w.name]!)];
      value.dispose();
      m.dispose();
      return out;
    };
    const data = [randomHost([2, 8, 8, 1], 9)];
    const cpu = await onBackend('cpu', data, run);
    const wasm = await onBackend('wasm', data, run);
    expect(wasm[0]!.shape).toEqual([2, 2, 2, 4]);
    cpu.forEach((ref, i) => expectClose(ref, wasm[i]!, 1e-4));
  });

  it('keeps a diverged run visibly diverged: NaN in, NaN out and in the gradients', () => {
    const c: Case = { name: '', shape: [1, 10, 10, 1], filters: [4, 4] };
    const x = tf.tidy(() => {
      const values = tf.randomUniform(c.shape, -1, 1, 'float32', 1).bufferSync();
      values.set(NaN, 0, 4, 4, 0);
      return values.toTensor();
    });
    const [y, ...grads] = train(c)(x);
    expect(Array.from(y!.dataSync()).every(Number.isNaN)).toBe(true);
    // All but the dense bias, whose gradient does not depend on the activations.
    for (const g of grads.slice(0, -1)) {
      expect(Array.from(g.dataSync()).some(Number.isNaN)).toBe(true);
    }
    tf.dispose([x, y!, ...grads]);
  });
});
