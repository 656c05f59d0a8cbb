import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveTrainConfig, type TrainConfig } from '../../../src-main/contract/config';
import { selectBackend } from '../../../src-main/engine/backend';
import { loadDataset } from '../../../src-main/engine/data';
import { emscripten, type BackendWasm } from '../../../src-main/engine/accel/wasm-backend';
import { buildModel, compileModel } from '../../../src-main/engine/models';
import { chooseTrainingStep, resolveThreads } from '../../../src-main/engine/steps/choose';
import { DataParallelTraining } from '../../../src-main/engine/steps/data-parallel';
import { FusedDenseTraining } from '../../../src-main/engine/steps/fused-dense';
import { TfjsOpsStep } from '../../../src-main/engine/steps/tfjs-ops';

const dataset = loadDataset(null);
const shape = { rows: 28, cols: 28 };

beforeAll(async () => {
  await selectBackend('wasm');
});
afterAll(async () => {
  await selectBackend('wasm');
});

function modelFor(config: TrainConfig) {
  const model = buildModel(config);
  compileModel(model, config.learningRate);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return { model, variables };
}

describe('the thread rule', () => {
  it('uses 1 thread on native TensorFlow and WebGPU, honours an explicit count elsewhere', () => {
    const cnn = resolveTrainConfig({ model: 'cnn' });
    expect(resolveThreads({ ...cnn, threads: 4 }, 'tensorflow', 8)).toBe(1);
    expect(resolveThreads(cnn, 'tensorflow-gpu', 8)).toBe(1);
    expect(resolveThreads({ ...cnn, threads: 4 }, 'webgpu', 8)).toBe(1);
    expect(resolveThreads({ ...cnn, threads: 3 }, 'wasm', 2)).toBe(3);
    expect(resolveThreads({ ...cnn, threads: 1 }, 'wasm', 8)).toBe(1);
  });

  it('auto: one thread per core on wasm, as many as the batch pays for, never more', () => {
    const auto = (model: TrainConfig['model'], batchSize: number, cores: number) =>
      resolveThreads(resolveTrainConfig({ model, batchSize }), 'wasm', cores);
    // The cnn's default batch of 128 at ≥ 8 images a thread: 16 threads' worth.
    expect([1, 2, 8, 16].map((cores) => auto('cnn', 128, cores))).toEqual([1, 2, 8, 16]);
    expect([1, 2, 8, 16].map((cores) => auto('cnn-strong', 128, cores))).toEqual([1, 2, 8, 16]);
    // Smaller batches cap the count, whatever the cores.
    expect([1, 2, 8, 16].map((cores) => auto('cnn', 32, cores))).toEqual([1, 2, 4, 4]);
    expect([1, 2, 8, 16].map((cores) => auto('cnn', 16, cores))).toEqual([1, 2, 2, 2]);
    expect([1, 2, 8, 16].map((cores) => auto('cnn', 8, cores))).toEqual([1, 1, 1, 1]);
    // The mlp (tfjs ops) needs 32 images a thread: its default batch of 32 stays on one.
    expect([1, 2, 8, 16].map((cores) => auto('mlp', 32, cores))).toEqual([1, 1, 1, 1]);
    expect([1, 2, 8, 16].map((cores) => auto('mlp', 64, cores))).toEqual([1, 2, 2, 2]);
    expect([1, 2, 8, 16].map((cores) => auto('mlp', 256, cores))).toEqual([1, 2, 8, 8]);
    // Never more than the config allows, even on a huge machine with a huge batch.
    expect(auto('cnn', 4096, 128)).toBe(64);
    // The cpu backend: 16 images a thread for the mlp.
    const cpu = (cores: number) =>
      resolveThreads(resolveTrainConfig({ model: 'mlp' }), 'cpu', cores);
    expect([1, 2, 8, 16].map(cpu)).toEqual([1, 2, 2, 2]);
    // Configs saved before `threads` existed have none: auto.
    const old: TrainConfig = resolveTrainConfig({ model: 'cnn' });
    delete old.threads;
    expect(resolveThreads(old, 'wasm', 8)).toBe(8);
  });
});

describe('chooseTrainingStep', () => {
  async function chosen(partial: Parameters<typeof resolveTrainConfig>[0], fusedStep = true) {
    const config = resolveTrainConfig(partial);
    const { model, variables } = modelFor(config);
    const backend = tf.getBackend() as 'wasm' | 'cpu';
    const step = await chooseTrainingStep({ model, variables, config, backend, shape, fusedStep });
    return { step, model };
  }

  it('gives a Dense stack on wasm the fused step, on one thread when threads are auto', async () => {
    const { step, model } = await chosen({ model: 'mlp', batchSize: 256 });
    expect(step).toBeInstanceOf(FusedDenseTraining);
    expect(step.threads).toBe(1);
    await step.dispose();
    model.dispose();
  });

  it('uses tfjs ops when the caller turns the fused step off, or off wasm', async () => {
    const off = await chosen({ model: 'mlp', threads: 1 }, false);
    expect(off.step).toBeInstanceOf(TfjsOpsStep);
    await off.step.dispose();
    off.model.dispose();
    await selectBackend('cpu');
    const cpu = await chosen({ model: 'mlp', threads: 1 });
    expect(cpu.step).toBeInstanceOf(TfjsOpsStep);
    await cpu.step.dispose();
    cpu.model.dispose();
    await selectBackend('wasm');
  });

  it('starts gradient threads when asked for more than one', async () => {
    const { step, model } = await chosen({ model: 'cnn', threads: 2 });
    expect(step).toBeInstanceOf(DataParallelTraining);
    expect(step.threads).toBe(2);
    await step.dispose();
    model.dispose();
  });

  it('falls back to tfjs ops when the fused step cannot get the memory', async () => {
    const config = resolveTrainConfig({ model: 'mlp', threads: 1 });
    const { model, variables } = modelFor(config);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const em = emscripten(tf.backend() as BackendWasm);
    const malloc = em._malloc.bind(em);
    // The fused step's block (its weights, Adam's state, a batch's activations) is over 1 MB.
    const spy = vi.spyOn(em, '_malloc').mockImplementation((n) => (n > 1 << 20 ? 0 : malloc(n)));
    try {
      const step = await chooseTrainingStep({ model, variables, config, backend: 'wasm', shape });
      expect(step).toBeInstanceOf(TfjsOpsStep);
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^training without the fused/));
      await step.dispose();
    } finally {
      spy.mockRestore();
      warn.mockRestore();
      model.dispose();
    }
  });
});

describe('a training step', () => {
  it.each([
    ['tfjs ops', false],
    ['the fused step', true],
  ] as const)('%s sums the epoch loss and correct counts across steps', async (_, fusedStep) => {
    const config = resolveTrainConfig({ model: 'mlp', hiddenUnits: 16, dropout: 0, seed: 3 });
    const { model, variables } = modelFor(config);
    const step = await chooseTrainingStep({
      model,
      variables,
      config: { ...config, threads: 1 },
      backend: 'wasm',
      shape,
      fusedStep,
    });
    const n = 16;
    const xs = dataset.train.images.slice(0, 2 * n * 784);
    const ys = Int32Array.from(dataset.train.labels.subarray(0, 2 * n));
    step.begin(1);
    await step.step(xs, ys, n);
    const first = await step.totals();
    await step.step(xs.subarray(n * 784), ys.subarray(n), n);
    const both = await step.totals();
    step.end();
    // Initial loss ≈ ln 10 per image; the second batch adds its own.
    expect(first.lossSum / n).toBeGreaterThan(1.5);
    expect(first.lossSum / n).toBeLessThan(3.5);
    expect(both.lossSum).toBeGreaterThan(first.lossSum + 1.5 * n);
    expect(both.correct).toBeGreaterThanOrEqual(first.correct);
    expect(both.correct).toBeLessThanOrEqual(2 * n);
    // end() gave Adam's state back to the optimizer: two iterations.
    expect((model.optimizer as unknown as { iterations_: number }).iterations_).toBe(2);
    // A new epoch starts from 0, and an epoch leaves no tensor behind (Adam's exist by now).
    const settled = tf.memory().numTensors;
    step.begin(2);
    expect(await step.totals()).toEqual({ lossSum: 0, correct: 0 });
    await step.step(xs, ys, n);
    expect((await step.totals()).lossSum).toBeGreaterThan(0);
    step.end();
    expect(tf.memory().numTensors).toBe(settled);
    await step.dispose();
    model.optimizer.dispose();
    model.dispose();
  });
});
