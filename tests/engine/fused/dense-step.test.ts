import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src-main/engine/backend';
import { crossEntropySum } from '../../../src-main/engine/evaluate';
import { planDenseStack, type DenseStackPlan } from '../../../src-main/engine/fused/dense-stack';
import { FusedDenseStep } from '../../../src-main/engine/fused/dense-step';
import { buildModel, compileModel } from '../../../src-main/engine/models';
import { mulberry32 } from '../../../src-main/engine/random';
import type { BackendWasm } from '../../../src-main/engine/accel/wasm-backend';

/**
 * The fused step against tfjs' own optimizer.minimize on an identical copy of the model, both on
 * the wasm backend. Dropout masks cannot be shared with tf.dropout, so the reference applies the
 * masks the fused step draws (mulberry32, feature-major: element c·n + j is unit c of image j).
 */

beforeAll(async () => {
  await selectBackend('wasm');
});

function planOf(model: tf.LayersModel): DenseStackPlan {
  const plan = planDenseStack(model);
  if (typeof plan === 'string') throw new Error(plan);
  return plan;
}

/** The masks the fused step draws for one step of n images, as [n, units] tensors. */
function drawMasks(plan: DenseStackPlan, n: number, random: () => number): (tf.Tensor | null)[] {
  return plan.layers.map((l) => {
    if (l.dropout === 0) return null;
    const keep = 1 - l.dropout;
    const scale = Math.fround(1 / keep);
    const mask = new Float32Array(n * l.units);
    for (let c = 0; c < l.units; c++)
      for (let j = 0; j < n; j++) mask[j * l.units + c] = random() + keep >= 1 ? scale : 0;
    return tf.tensor2d(mask, [n, l.units]);
  });
}

/** tfjs' gradients and Adam through the same layers, written as plain ops. */
function referenceStep(
  model: tf.LayersModel,
  plan: DenseStackPlan,
  xs: Float32Array,
  ys: Int32Array,
  n: number,
  masks: (tf.Tensor | null)[],
  smoothing: number,
): number {
  return tf.tidy(() => {
    const x = tf.tensor2d(xs.subarray(0, n * plan.inputSize), [n, plan.inputSize]);
    const y = tf.tensor1d(ys.subarray(0, n), 'int32');
    const vars = plan.variables.map((v) => v.read() as tf.Variable);
    const loss = model.optimizer.minimize(
      () => {
        let h: tf.Tensor = x;
        let vi = 0;
        plan.layers.forEach((l, i) => {
          h = tf.matMul(h as tf.Tensor2D, vars[vi++]!);
          if (l.hasBias) h = tf.add(h, vars[vi++]!);
          if (l.activation === 'relu') h = tf.relu(h);
          if (l.activation === 'softmax') h = tf.softmax(h);
          const mask = masks[i];
          if (mask) h = tf.mul(h, mask);
        });
        return tf.div(crossEntropySum(h as tf.Tensor2D, y, smoothing), n) as tf.Scalar;
      },
      true,
      vars,
    )!;
    return loss.dataSync()[0]!;
  });
}

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

async function compareTraining(
  make: () => tf.LayersModel,
  opts: {
    batch: number;
    sizes: number[];
    seed: number;
    tolerance: number;
    smoothing?: number;
    /** The learning rate of step i, set on both optimizers before it (a schedule). */
    rateAt?: (i: number) => number;
  },
) {
  const reference = make();
  const fusedModel = make();
  const plan = planOf(reference);
  const fusedPlan = planOf(fusedModel);
  const step = new FusedDenseStep(
    fusedPlan,
    fusedModel.optimizer,
    tf.backend() as BackendWasm,
    opts.batch,
    opts.smoothing ?? 0,
  );
  const data = mulberry32(opts.seed);
  const classes = plan.layers.at(-1)!.units;
  const xs = Float32Array.from({ length: opts.batch * plan.inputSize }, () => data());
  const ys = Int32Array.from({ length: opts.batch }, () => Math.floor(data() * classes));
  const dropoutSeed = 77;
  const maskRandom = mulberry32(dropoutSeed);
  try {
    step.load();
    step.seedDropout(dropoutSeed);
    for (const [i, n] of opts.sizes.entries()) {
      if (opts.rateAt) {
        for (const m of [reference, fusedModel])
          (m.optimizer as unknown as { learningRate: number }).learningRate = opts.rateAt(i);
      }
      const masks = drawMasks(plan, n, maskRandom);
      const refLoss = referenceStep(reference, plan, xs, ys, n, masks, opts.smoothing ?? 0);
      tf.dispose(masks.filter((m): m is tf.Tensor => m !== null));
      const fused = step.step(xs, ys, n);
      expect(fused.lossSum / n).toBeCloseTo(refLoss, 4);
      expect(fused.correct).toBeGreaterThanOrEqual(0);
    }
    step.store();
    plan.variables.forEach((v, i) => {
      expect(maxAbsDiff(v.read(), fusedPlan.variables[i]!.read())).toBeLessThan(opts.tolerance);
    });
    // The optimizer state a checkpoint saves: iterations, then every m, then every v.
    const refState = await reference.optimizer.getWeights();
    const fusedState = await fusedModel.optimizer.getWeights();
    expect(fusedState.length).toBe(refState.length);
    expect(fusedState[0]!.tensor.dataSync()[0]).toBe(opts.sizes.length);
    for (let i = 1; i < refState.length; i++) {
      expect(fusedState[i]!.name.split('/').at(-1)).toBe(refState[i]!.name.split('/').at(-1));
      expect(maxAbsDiff(refState[i]!.tensor, fusedState[i]!.tensor)).toBeLessThan(opts.tolerance);
    }
    const acc = (m: tf.LayersModel) =>
      (m.optimizer as unknown as { accBeta1: tf.Variable }).accBeta1.dataSync()[0];
    expect(acc(fusedModel)).toBe(acc(reference));
  } finally {
    step.dispose();
    for (const m of [reference, fusedModel]) {
      m.optimizer.dispose();
      m.dispose();
    }
  }
}

describe('FusedDenseStep', () => {
  it('trains the mlp preset like tfjs: weights and Adam state after 12 steps', async () => {
    await compareTraining(
      () => {
        const m = buildModel({ model: 'mlp', hiddenUnits: 128, dropout: 0, seed: 3 });
        compileModel(m, 2e-3);
        return m;
      },
      { batch: 32, sizes: Array(12).fill(32), seed: 5, tolerance: 1e-4 },
    );
  });

  it('matches tfjs with dropout, linear layers, no bias and partial batches', async () => {
    await compareTraining(
      () => {
        const m = tf.sequential({
          layers: [
            tf.layers.flatten({ inputShape: [6, 5, 1] }),
            tf.layers.dense({
              units: 24,
              activation: 'relu',
              kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
            }),
            tf.layers.dropout({ rate: 0.3 }),
            tf.layers.dense({
              units: 12,
              useBias: false,
              kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
            }),
            tf.layers.dropout({ rate: 0.5 }),
            tf.layers.dense({
              units: 10,
              activation: 'softmax',
              kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
            }),
          ],
        });
        m.compile({ optimizer: tf.train.adam(1e-2), loss: 'sparseCategoricalCrossentropy' });
        return m;
      },
      { batch: 16, sizes: [16, 16, 5, 16, 1, 16, 9, 16], seed: 9, tolerance: 1e-4 },
    );
  });

  it('matches tfjs with label smoothing and a learning rate that changes at every step', async () => {
    await compareTraining(
      () => {
        const m = buildModel({ model: 'mlp', hiddenUnits: 32, dropout: 0.2, seed: 6 });
        compileModel(m, 1e-3);
        return m;
      },
      {
        batch: 32,
        sizes: [32, 32, 7, 32, 32, 32],
        seed: 11,
        tolerance: 1e-4,
        smoothing: 0.1,
        // One-cycle-like: up ×8, then down; a step that ignored the change would drift.
        rateAt: (i) => 1e-3 * [1, 4, 8, 8, 2, 0.5][i]!,
      },
    );
  });

  it('continues from an optimizer that already has state (resume), and refuses bad input', async () => {
    const model = buildModel({ model: 'mlp', hiddenUnits: 16, dropout: 0, seed: 4 });
    compileModel(model, 1e-3);
    const plan = planOf(model);
    const xs = new Float32Array(4 * 784).fill(0.5);
    const ys = Int32Array.from([1, 2, 3, 4]);
    referenceStep(model, plan, xs, ys, 4, [null, null], 0);
    const before = model.trainableWeights[0]!.read().dataSync().slice();
    const step = new FusedDenseStep(plan, model.optimizer, tf.backend() as BackendWasm, 4);
    try {
      step.load();
      step.store();
      // A load/store round trip changes nothing, and Adam's clock carries on from tfjs'.
      expect(Array.from(model.trainableWeights[0]!.read().dataSync())).toEqual(Array.from(before));
      expect(model.optimizer.iterations).toBe(1);
      step.step(xs, ys, 4);
      step.store();
      expect(model.optimizer.iterations).toBe(2);
      expect(() => step.step(xs, ys, 5)).toThrow(/batch of 5/);
      expect(() => step.step(xs, Int32Array.from([1, 2, 3, 10]), 4)).toThrow(/label 10/);
    } finally {
      step.dispose();
      model.optimizer.dispose();
      model.dispose();
    }
  });
});
