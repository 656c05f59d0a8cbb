import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelPreset } from '$contract/config';
import { buildModel } from '../../../src-main/engine/models';
import {
  ModelInspector,
  unfusedForward,
  type Saliency,
} from '../../../src-renderer/src/lib/model-inspect';

/**
 * The inside view's numbers on tfjs' CPU backend: activations against the layers' own output
 * shapes and predict, integrated gradients against their defining property (completeness), and
 * no tensor left behind.
 */

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const PRESETS: ModelPreset[] = ['mlp', 'cnn', 'cnn-fast', 'cnn-strong'];

/** The engine's preset, with a narrow head so the CPU backend keeps up. */
function preset(model: ModelPreset): tfl.LayersModel {
  return buildModel({
    model,
    hiddenUnits: 16,
    dropout: 0.25,
    seed: 7,
  }) as unknown as tfl.LayersModel;
}

/** A CNN with every layer kind the presets use, small enough for gradients on the CPU backend. */
function tinyCnn(): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(
    tfl.layers.conv2d({
      inputShape: [28, 28, 1],
      filters: 4,
      kernelSize: 3,
      activation: 'relu',
      kernelInitializer: tfl.initializers.heNormal({ seed: 1 }),
    }),
  );
  m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tfl.layers.batchNormalization());
  m.add(
    tfl.layers.conv2d({
      filters: 4,
      kernelSize: 3,
      useBias: false,
      kernelInitializer: tfl.initializers.heNormal({ seed: 2 }),
    }),
  );
  m.add(tfl.layers.reLU());
  m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tfl.layers.flatten());
  m.add(tfl.layers.dropout({ rate: 0.5 }));
  m.add(
    tfl.layers.dense({
      units: 10,
      activation: 'softmax',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }),
    }),
  );
  randomiseBatchNorm(m);
  return m;
}

/** Fresh BatchNorm layers are the identity; trained ones are not, and the replica must agree. */
function randomiseBatchNorm(model: tfl.LayersModel): void {
  for (const layer of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
    const shapes = layer.getWeights().map((w) => w.shape);
    layer.setWeights(
      shapes.map((shape, i) =>
        // gamma, beta, moving mean, moving variance (> 0)
        i === 3
          ? tf.randomUniform(shape, 0.5, 2, 'float32', 11)
          : tf.randomNormal(shape, 0, 0.5, 'float32', 12 + i),
      ),
    );
  }
}

/** A thick "7": ink at 1 and 0.8, the rest black. */
function seven(): Float32Array {
  const p = new Float32Array(784);
  for (let x = 8; x < 21; x++) for (let y = 5; y < 8; y++) p[y * 28 + x] = 0.8;
  for (let i = 0; i < 16; i++)
    for (let w = 0; w < 3; w++) p[(8 + i) * 28 + 18 - Math.floor(i / 2) + w] = 1;
  return p;
}

const product = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function predict(model: tfl.LayersModel, pixels: Float32Array): Float32Array {
  return tf.tidy(
    () =>
      (model.predict(tf.tensor4d(pixels, [1, 28, 28, 1])) as tf.Tensor).dataSync() as Float32Array,
  );
}

describe('ModelInspector.activations', () => {
  for (const name of PRESETS) {
    it(`gives every layer of ${name} its output shape, the last one predict's answer`, () => {
      const model = preset(name);
      const inspector = new ModelInspector(model);
      const activations = inspector.activations(seven());
      expect(activations.map((a) => a.name)).toEqual(model.layers.map((l) => l.name));
      for (const [i, a] of activations.entries()) {
        const layer = model.layers[i]!;
        expect(a.className).toBe(layer.getClassName());
        expect(a.shape).toEqual((layer.outputShape as number[]).slice(1));
        expect(a.data).toHaveLength(product(a.shape));
        expect(a.data.every(Number.isFinite)).toBe(true);
      }
      const expected = predict(model, seven());
      const last = activations.at(-1)!.data;
      for (let d = 0; d < 10; d++) expect(last[d]).toBeCloseTo(expected[d]!, 6);
      model.dispose();
    });
  }

  it('leaves no tensor behind', () => {
    const model = tinyCnn();
    const inspector = new ModelInspector(model);
    inspector.inspect(seven());
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      inspector.inspect(seven(), 4);
      inspector.inspect(seven(), null);
      inspector.filters(8);
    }
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('unfusedForward', () => {
  for (const name of [...PRESETS, 'tiny CNN with trained BatchNorm'] as const) {
    it(`computes what predict does for ${name}`, () => {
      const model = name === 'tiny CNN with trained BatchNorm' ? tinyCnn() : preset(name);
      if (name !== 'tiny CNN with trained BatchNorm') randomiseBatchNorm(model);
      const forward = unfusedForward(model.layers);
      const got = tf.tidy(
        () => forward(tf.tensor4d(seven(), [1, 28, 28, 1])).dataSync() as Float32Array,
      );
      const expected = predict(model, seven());
      for (let d = 0; d < 10; d++) expect(got[d]).toBeCloseTo(expected[d]!, 5);
      model.dispose();
    });
  }

  it('refuses a layer it does not know rather than guess', () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.flatten({ inputShape: [28, 28, 1] }),
        tfl.layers.dense({ units: 10 }),
        tfl.layers.leakyReLU(),
      ],
    });
    expect(() => unfusedForward(model.layers)).toThrow(/LeakyReLU/);
    model.dispose();
  });
});

describe('ModelInspector.saliency (integrated gradients)', () => {
  /** Relative gap between the attributions' sum and f(x) − f(baseline). */
  const gap = (sum: number, s: Saliency) => Math.abs(sum - s.delta) / Math.abs(s.delta);
  /** What a wrong implementation sums to: the mean path gradient without the (x − 0) factor. */
  function meanGradientSum(
    model: tfl.LayersModel,
    pixels: Float32Array,
    digit: number,
    steps: number,
  ): number {
    return tf.tidy(() => {
      const x = tf.tensor4d(pixels, [1, 28, 28, 1]);
      const path = tf.mul(
        tf.linspace(0.5 / steps, 1 - 0.5 / steps, steps).reshape([steps, 1, 1, 1]),
        x,
      );
      const g = tf.grad((b: tf.Tensor) =>
        tf.sum(tf.slice(model.apply(b) as tf.Tensor2D, [0, digit], [-1, 1])),
      )(path);
      return tf.sum(tf.mean(g, 0)).dataSync()[0]!;
    });
  }

  for (const [name, build] of [
    ['mlp', () => preset('mlp')],
    ['tiny CNN', tinyCnn],
  ] as const) {
    it(`adds up to f(x) − f(black) for the predicted digit of the ${name} (completeness)`, () => {
      const model = build();
      const inspector = new ModelInspector(model);
      const { digit, saliency: s } = inspector.inspect(seven());
      const saliency = s!;
      expect(saliency.method).toBe('integrated-gradients');
      expect(saliency.digit).toBe(digit);
      expect(saliency.values).toHaveLength(784);
      expect(saliency.values.every(Number.isFinite)).toBe(true);
      const expected =
        predict(model, seven())[digit]! - predict(model, new Float32Array(784))[digit]!;
      expect(saliency.delta).toBeCloseTo(expected, 5);
      // A test that cannot tell right from wrong proves nothing: the change must be sizeable.
      expect(Math.abs(saliency.delta)).toBeGreaterThan(0.02);
      const tolerance = 0.05;
      expect(gap(saliency.sum, saliency)).toBeLessThan(tolerance);
      // The mistakes this tolerance must catch: a sign flip, a missing (x − baseline) factor.
      expect(gap(-saliency.sum, saliency)).toBeGreaterThan(tolerance);
      expect(gap(meanGradientSum(model, seven(), digit, saliency.steps), saliency)).toBeGreaterThan(
        tolerance,
      );
      expect(saliency.sum).toBeCloseTo(
        saliency.values.reduce((a, b) => a + b, 0),
        4,
      );
      expect(saliency.maxAbs).toBeCloseTo(Math.max(...saliency.values.map(Math.abs)), 6);
      // Only ink carries attribution: the baseline is black, so a black pixel has none.
      expect(saliency.values.every((v, i) => seven()[i] !== 0 || v === 0)).toBe(true);
      model.dispose();
    });
  }

  it('computes the same attributions in parts, leaving no tensor between or after them', () => {
    const model = tinyCnn();
    const inspector = new ModelInspector(model);
    const whole = inspector.saliency(seven(), 7, 16);
    const before = tf.memory().numTensors;
    const run = inspector.saliencyInParts(seven(), 7, 16, 5);
    let parts = 0;
    let step = run.next();
    for (; !step.done; step = run.next()) {
      parts++;
      expect(tf.memory().numTensors).toBe(before);
    }
    // 16 midpoints, 5 a part: four parts, three pauses between them.
    expect(parts).toBe(3);
    for (let i = 0; i < 784; i++) expect(step.value.values[i]).toBeCloseTo(whole.values[i]!, 6);
    expect(step.value.delta).toBe(whole.delta);
    // Abandoned half way (the drawing changed): nothing is left behind either.
    const dropped = inspector.saliencyInParts(seven(), 7, 16, 5);
    dropped.next();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('gives a blank input no saliency at all', () => {
    const model = tinyCnn();
    const s = new ModelInspector(model).saliency(new Float32Array(784), 3);
    expect(s.values.every((v) => v === 0)).toBe(true);
    expect(s.sum).toBe(0);
    expect(s.maxAbs).toBe(0);
    expect(s.delta).toBe(0);
    model.dispose();
  });

  for (const name of ['cnn', 'cnn-fast'] as const) {
    it(`runs through the ${name} preset's layers`, () => {
      const model = preset(name);
      const s = new ModelInspector(model).saliency(seven(), 0, 2);
      expect(s.values).toHaveLength(784);
      expect(s.values.every(Number.isFinite)).toBe(true);
      expect(s.maxAbs).toBeGreaterThan(0);
      model.dispose();
    });
  }
});

describe('ModelInspector.filters', () => {
  it('shows a CNN’s first convolution kernels, 3 × 3 each', () => {
    const model = preset('cnn');
    const f = new ModelInspector(model).filters(8)!;
    expect(f).toMatchObject({ kind: 'conv', height: 3, width: 3, total: 32, shown: 8 });
    expect(f.data).toHaveLength(8 * 9);
    const kernel = model.layers[0]!.getWeights()[0]!.arraySync() as number[][][][];
    // Filter 5, row 2, column 1.
    expect(f.data[5 * 9 + 2 * 3 + 1]).toBeCloseTo(kernel[2]![1]![0]![5]!, 6);
    model.dispose();
  });

  it('shows an MLP’s first Dense weights per hidden unit as 28 × 28 templates', () => {
    const model = preset('mlp');
    const f = new ModelInspector(model).filters(100)!;
    expect(f).toMatchObject({ kind: 'dense', height: 28, width: 28, total: 16, shown: 16 });
    const kernel = model.layers[1]!.getWeights()[0]!.arraySync() as number[][];
    // Unit 3's weight for pixel (10, 14).
    expect(f.data[3 * 784 + 10 * 28 + 14]).toBeCloseTo(kernel[10 * 28 + 14]![3]!, 6);
    model.dispose();
  });
});
