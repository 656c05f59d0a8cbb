import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { resolveTrainConfig, type PartialTrainConfig } from '../../src-main/contract/config';
import type { BackendInfo } from '../../src-main/contract/messages';
import { selectBackend } from '../../src-main/engine/backend';
import { loadCheckpoint } from '../../src-main/engine/checkpoints';
import { loadDataset } from '../../src-main/engine/data';
import { readRun } from '../../src-main/engine/runs';
import { startTraining } from '../fixtures/training';
import { tempDir } from '../helpers';
import { useSwiftShader } from './webgpu-harness';

/**
 * Short runs on webgpu over SwiftShader (a CPU driver, so a few dozen images: a cnn batch of 16
 * takes seconds), and a checkpoint trained there predicting the same digits on wasm.
 */

useSwiftShader();

const root = tempDir();
const dataset = loadDataset(null);
const webgpu = (): BackendInfo => ({
  name: 'webgpu',
  reason: 'chosen by the user',
  unavailable: [],
});

async function trainOnWebGpu(partial: PartialTrainConfig) {
  expect(tf.getBackend()).toBe('webgpu');
  const config = resolveTrainConfig({ ...partial, backend: 'webgpu' });
  const run = startTraining({ root, dataset, config, backend: webgpu() });
  await expect(run.done).resolves.toEqual({ status: 'finished', epochsDone: config.epochs });
  const started = run.events.find((e) => e.type === 'started');
  expect(started).toMatchObject({ threads: 1 });
  const epochs = run.events.filter((e) => e.type === 'epoch');
  expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
  expect(epochs.every((e) => e.backend === 'webgpu')).toBe(true);
  // Falling loss: the gradients are applied, not just computed.
  expect(epochs[1]!.loss).toBeLessThan(epochs[0]!.loss);
  expect(readRun(root, run.runId)).toMatchObject({ status: 'finished', backend: 'webgpu' });
  return run.runId;
}

/** The digit and probabilities the checkpoint gives 40 test images on the current backend. */
async function predict(runId: string): Promise<{ digits: number[]; probs: number[] }> {
  const { model } = await loadCheckpoint(root, runId, 2);
  const n = 40;
  const out = tf.tidy(() =>
    model.predict(tf.tensor4d(dataset.test.images.subarray(0, n * 784), [n, 28, 28, 1])),
  ) as tf.Tensor2D;
  const digits = tf.argMax(out, 1);
  const result = { digits: Array.from(await digits.data()), probs: Array.from(await out.data()) };
  tf.dispose([out, digits]);
  model.dispose();
  return result;
}

describe('auto with only SwiftShader', () => {
  it('never picks the software adapter, and says which one it skipped', async () => {
    try {
      const info = await selectBackend('auto');
      expect(info.name).not.toBe('webgpu');
      expect(info.unavailable.find((u) => u.name === 'webgpu')?.error).toMatch(
        /^only a software adapter, google swiftshader \(SwiftShader driver [\d.]+, software\), which is never picked automatically \(choose webgpu to train on it\)$/,
      );
    } finally {
      await tf.setBackend('webgpu');
    }
  });
});

describe('training on webgpu', () => {
  it('mlp: two epochs, loss falling', async () => {
    await trainOnWebGpu({
      model: 'mlp',
      epochs: 2,
      limit: 400,
      batchSize: 50,
      validationSize: 100,
    });
  });

  it('cnn: two epochs, loss falling; its checkpoint predicts the same digits on wasm', async () => {
    const runId = await trainOnWebGpu({
      model: 'cnn',
      epochs: 2,
      limit: 64,
      batchSize: 16,
      validationSize: 32,
      learningRate: 0.003,
    });
    const onGpu = await predict(runId);
    await selectBackend('wasm');
    try {
      const onWasm = await predict(runId);
      expect(onWasm.digits).toEqual(onGpu.digits);
      const diff = Math.max(...onWasm.probs.map((p, i) => Math.abs(p - onGpu.probs[i]!)));
      expect(diff).toBeLessThan(1e-4);
    } finally {
      await tf.setBackend('webgpu');
    }
  }, 300_000);
});
