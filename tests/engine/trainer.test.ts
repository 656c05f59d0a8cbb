import * as tf from '@tensorflow/tfjs';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveTrainConfig, type PartialTrainConfig } from '../../src-main/contract/config';
import type { BackendInfo, WorkerEvent } from '../../src-main/contract/messages';
import { selectBackend } from '../../src-main/engine/backend';
import { listRuns, loadCheckpoint } from '../../src-main/engine/checkpoints';
import { loadDataset } from '../../src-main/engine/data';
import { evaluateSet } from '../../src-main/engine/evaluate';
import { FusedDenseStep } from '../../src-main/engine/fused/dense-step';
import { newRunId, readMetricsLog, readRun } from '../../src-main/engine/runs';
import { readEventFile } from '../../src-main/engine/tensorboard';
import { runTraining, windowMeans } from '../../src-main/engine/trainer';
import { startTraining, type TrainingStart } from '../fixtures/training';
import { tempDir } from '../helpers';

const root = tempDir();
const dataset = loadDataset(null);
let backend: BackendInfo;

beforeAll(async () => {
  backend = await selectBackend('wasm');
});

function train(
  partial: PartialTrainConfig,
  opts: Omit<TrainingStart, 'root' | 'dataset' | 'config' | 'backend'> = {},
) {
  const config = resolveTrainConfig({ validationSize: 500, ...partial, backend: 'wasm' });
  return { ...startTraining({ root, dataset, config, backend, ...opts }), config };
}

describe('windowMeans', () => {
  it('is the mean over the images between two readings of the running sums', () => {
    const before = { seen: 64, lossSum: 64 * 0.9, correct: 40 };
    const after = { seen: 96, lossSum: 64 * 0.9 + 32 * 0.3, correct: 40 + 30 };
    const { loss, accuracy } = windowMeans(before, after);
    expect(loss).toBeCloseTo(0.3, 12);
    expect(accuracy).toBeCloseTo(30 / 32, 12);
  });

  it('clamps what float32 sums lose to the subtraction, and covers a first reading', () => {
    const w = windowMeans(
      { seen: 10, lossSum: 5, correct: 10 },
      { seen: 11, lossSum: 4.99, correct: 11.01 },
    );
    expect(w).toEqual({ loss: 0, accuracy: 1 });
    expect(
      windowMeans({ seen: 0, lossSum: 0, correct: 0 }, { seen: 4, lossSum: 2, correct: 3 }),
    ).toEqual({
      loss: 0.5,
      accuracy: 0.75,
    });
  });
});

describe('runTraining', () => {
  it('trains the seed MLP on a subset to a sane accuracy, with a checkpoint, metrics and TensorBoard per epoch', async () => {
    const { done, events, runId } = train({ model: 'mlp', epochs: 2, limit: 4000 });
    await expect(done).resolves.toEqual({ status: 'finished', epochsDone: 2 });

    const types = events.map((e) => e.type);
    expect(types[0]).toBe('started');
    expect(events[0]).toMatchObject({ at: expect.closeTo(Date.now(), -5) });
    expect(types.at(-1)).toBe('finished');
    const epochs = events.filter((e) => e.type === 'epoch');
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
    const last = epochs[1]!;
    expect(last.valAccuracy).toBeGreaterThan(0.88);
    expect(last.loss).toBeLessThan(epochs[0]!.loss);
    expect(last.backend).toBe('wasm');
    const batches = events.filter((e) => e.type === 'batch');
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.at(-1)).toMatchObject({ epoch: 2, batch: 125, batches: 125 });
    // Each event's recent means cover the batches since the one before (4,000 images = 125 full
    // batches): weighted by those batches they add up to the epoch's running mean, and they differ
    // from it, which is the point of sending them.
    for (const epoch of [1, 2]) {
      const ofEpoch = batches.filter((e) => e.epoch === epoch);
      let previous = 0;
      let lossSum = 0;
      let correctSum = 0;
      for (const e of ofEpoch) {
        lossSum += e.recentLoss * (e.batch - previous);
        correctSum += e.recentAccuracy * (e.batch - previous);
        previous = e.batch;
      }
      const last = ofEpoch.at(-1)!;
      expect(lossSum / last.batch).toBeCloseTo(last.loss, 4);
      expect(correctSum / last.batch).toBeCloseTo(last.accuracy, 4);
      if (ofEpoch.length > 1) expect(last.recentLoss).not.toBeCloseTo(last.loss, 6);
    }

    const dir = path.join(root, runId);
    expect(
      readdirSync(dir)
        .filter((n) => n.startsWith('epoch-'))
        .sort(),
    ).toEqual(['epoch-001', 'epoch-002']);
    expect(readRun(root, runId)).toMatchObject({ status: 'finished', pid: null, backend: 'wasm' });
    expect(readMetricsLog(root, runId).map((m) => m.valAccuracy)).toEqual(
      epochs.map((e) => e.valAccuracy),
    );

    // TensorBoard reads train/ and validation/ like the Keras callback writes them.
    const read = (sub: string) =>
      readEventFile(path.join(dir, sub, readdirSync(path.join(dir, sub))[0]!));
    const trainEvents = read('train').filter((e) => e.scalars.epoch_loss !== undefined);
    expect(trainEvents.map((e) => e.step)).toEqual([1, 2]);
    expect(trainEvents[1]!.scalars.epoch_loss).toBeCloseTo(last.loss, 5);
    const val = read('validation').filter((e) => e.scalars.epoch_accuracy !== undefined);
    expect(val[1]!.scalars.epoch_accuracy).toBeCloseTo(last.valAccuracy!, 5);

    // The checkpoint predicts exactly as the metrics say, on the same validation images.
    const loaded = await loadCheckpoint(root, runId, 2);
    const check = await evaluateSet(loaded.model, {
      ...dataset.train,
      images: dataset.train.images.subarray(59_500 * 784),
      labels: dataset.train.labels.subarray(59_500),
      count: 500,
    });
    expect(check.accuracy).toBeCloseTo(last.valAccuracy!, 6);
    loaded.model.dispose();
  });

  it('trains a Dense stack with the fused step on one thread, as accurately as with tfjs ops', async () => {
    const step = vi.spyOn(FusedDenseStep.prototype, 'step');
    const before = tf.memory().numTensors;
    const valAccuracy = (events: WorkerEvent[]) =>
      events.flatMap((e) => (e.type === 'epoch' ? [e.valAccuracy!] : [])).at(-1)!;
    try {
      // Batch 64 would get two threads of tfjs ops; the fused step trains on one instead.
      const fused = train({ model: 'mlp', epochs: 2, limit: 4000, batchSize: 64 });
      await expect(fused.done).resolves.toMatchObject({ status: 'finished' });
      expect(step).toHaveBeenCalledTimes(2 * Math.ceil(4000 / 64));
      expect(fused.events[0]).toMatchObject({ type: 'started', threads: 1 });
      expect(tf.memory().numTensors).toBe(before);

      step.mockClear();
      const plain = train(
        { model: 'mlp', epochs: 2, limit: 4000, batchSize: 64, threads: 1 },
        { fusedStep: false },
      );
      await plain.done;
      expect(step).not.toHaveBeenCalled();
      expect(valAccuracy(fused.events)).toBeGreaterThan(0.88);
      expect(Math.abs(valAccuracy(fused.events) - valAccuracy(plain.events))).toBeLessThan(0.03);
    } finally {
      step.mockRestore();
    }
  });

  it('honours a stop within one batch and keeps the last complete epoch', async () => {
    let stopAt: number | null = null;
    const { done, events, runId } = train(
      { model: 'mlp', epochs: 5, limit: 3000 },
      {
        // An event per batch: an epoch can take less than the default throttle interval.
        batchEventInterval: 0,
        onEvent: (e, signal) => {
          if (e.type === 'batch' && e.epoch === 2 && stopAt === null) {
            stopAt = e.batch;
            signal.stopRequested = true;
          }
        },
      },
    );
    await expect(done).resolves.toEqual({ status: 'stopped', epochsDone: 1 });
    const stopped = events.find((e) => e.type === 'stopped');
    expect(stopped).toMatchObject({ type: 'stopped', epoch: 1 });
    // The batch that was running when stop was asked for finishes; no other one starts.
    expect(stopped?.type === 'stopped' && stopped.batch).toBe(stopAt);
    expect(events.filter((e) => e.type === 'epoch')).toHaveLength(1);
    expect(readRun(root, runId).status).toBe('stopped');
    const run = (await listRuns(root)).find((r) => r.runId === runId)!;
    expect(run.checkpoints.map((c) => [c.epoch, c.status])).toEqual([[1, 'ok']]);
  });

  it('resumes the same run from its checkpoint with Adam state and continues the epoch count', async () => {
    const first = train({ model: 'mlp', epochs: 1, limit: 2000 });
    await first.done;
    const loaded = await loadCheckpoint(root, first.runId, 1);
    const iterations = (loaded.model.optimizer as unknown as { iterations: number }).iterations;
    expect(iterations).toBe(63); // ceil(2000 / 32) steps restored from the checkpoint
    const resumed = train(
      { model: 'mlp', epochs: 3, limit: 2000 },
      { runId: first.runId, resume: { model: loaded.model, epoch: 1 } },
    );
    await expect(resumed.done).resolves.toEqual({ status: 'finished', epochsDone: 3 });
    const started = resumed.events[0]!;
    expect(started).toMatchObject({ type: 'started', startEpoch: 2 });
    expect(resumed.events.filter((e) => e.type === 'epoch').map((e) => e.epoch)).toEqual([2, 3]);
    expect(readMetricsLog(root, first.runId).map((m) => m.epoch)).toEqual([1, 2, 3]);
    const after = await loadCheckpoint(root, first.runId, 3);
    expect((after.model.optimizer as unknown as { iterations: number }).iterations).toBe(63 * 3);
    after.model.dispose();
  });

  it('trains the CNN on WASM with our gradient kernels, and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const { done, events } = train({ model: 'cnn', epochs: 1, limit: 1024, batchSize: 64 });
    await done;
    const epoch = events.find((e) => e.type === 'epoch');
    expect(epoch && epoch.type === 'epoch' && epoch.valAccuracy).toBeGreaterThan(0.6);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('trains cnn-fast with its one-cycle schedule and label smoothing to a sane accuracy, resumably', async () => {
    const before = tf.memory().numTensors;
    const base = { model: 'cnn-fast', epochs: 2, limit: 2048, batchSize: 64, threads: 1 } as const;
    const { done, events, runId, config } = train(base);
    await done;
    expect(config).toMatchObject({ schedule: 'one-cycle', labelSmoothing: 0.1, augment: true });
    const epochs = events.flatMap((e) => (e.type === 'epoch' ? [e] : []));
    expect(epochs).toHaveLength(2);
    // 64 steps; chance is 0.1. With 32 steps the head's BatchNorm moving statistics (momentum
    // 0.99) are still a quarter of the way from their start, and validation reads them.
    expect(epochs[1]!.valAccuracy).toBeGreaterThan(0.5);
    expect(tf.memory().numTensors).toBe(before);
    // Resumed from epoch 1, the second epoch repeats the uninterrupted one bit for bit on one
    // thread: same schedule, same shuffles, and Adam's bias-correction powers rebuilt as training
    // built them (restoreAdamPowers; tfjs' pow(β, t + 1) left them a few bits off, and the
    // weights ~1 % of a step apart). A wrong schedule would move them by the order of the step.
    const load = async (epoch: number) => {
      const { model } = await loadCheckpoint(root, runId, epoch);
      const w = model.getWeights().map((t) => t.dataSync().slice());
      model.dispose();
      return w;
    };
    const [after1, uninterrupted] = [await load(1), await load(2)];
    const first = await loadCheckpoint(root, runId, 1);
    const resumed = train(base, { runId, resume: { epoch: 1, model: first.model } });
    await resumed.done;
    const again = await load(2);
    const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let m = 0;
      for (let j = 0; j < a.length; j++) m = Math.max(m, Math.abs(a[j]! - b[j]!));
      return m;
    };
    uninterrupted.forEach((w, i) => {
      const step = maxDiff(w, after1[i]!);
      expect(step).toBeGreaterThan(0);
      expect(maxDiff(again[i]!, w)).toBe(0);
    });
  }, 120_000);

  it('stops a run whose loss is no longer finite with a clear error and marks it crashed', async () => {
    // Non-finite inputs stand in for a blown-up model: the loss turns NaN within the epoch.
    const images = dataset.train.images.slice(0, 600 * 784);
    images.fill(Number.NaN, 0, 784);
    const poisoned = {
      ...dataset,
      train: { ...dataset.train, images, labels: dataset.train.labels.slice(0, 600), count: 600 },
    };
    const config = resolveTrainConfig({
      model: 'mlp',
      epochs: 2,
      validationSize: 100,
      backend: 'wasm',
    });
    const runId = newRunId('mlp');
    const done = runTraining({
      root,
      dataset: poisoned,
      config,
      backend,
      runId,
      signal: { stopRequested: false },
      emit: () => {},
    });
    await expect(done).rejects.toThrow(
      /training diverged in epoch 1 \(loss is NaN\); try a lower learning rate/,
    );
    expect(readRun(root, runId)).toMatchObject({
      status: 'crashed',
      reason: expect.stringMatching(/diverged/),
    });
    expect((await listRuns(root)).find((r) => r.runId === runId)?.checkpoints).toEqual([]);
  });

  it('leaves no temp folders behind', async () => {
    for (const run of readdirSync(root)) {
      expect(readdirSync(path.join(root, run)).filter((n) => n.includes('.tmp-'))).toEqual([]);
    }
    expect(existsSync(root)).toBe(true);
    expect(
      readFileSync(path.join(root, (await listRuns(root))[0]!.runId, 'run.json'), 'utf8'),
    ).toContain('"config"');
  });
});
