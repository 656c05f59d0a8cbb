import * as tf from '@tensorflow/tfjs';
import { existsSync, readdirSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ResultOf, WorkerEvent } from '../../src-main/contract/messages';
import { tempDir } from '../helpers';
import { serviceHarness } from './harness';

/**
 * The engine behind the protocol, in process: what the Checkpoints, Draw and Evaluate panels ask
 * of it (restore, evaluate with examples, resume from an earlier checkpoint, delete).
 */

const root = tempDir();
const { events, init, ask, until } = serviceHarness();
// Training this run and evaluating it take longer than the harness waits by default.
const untilEvent = (match: (e: WorkerEvent) => boolean) => until(match, 120_000);

const config = {
  model: 'mlp',
  epochs: 3,
  batchSize: 32,
  learningRate: 0.002,
  learningRateDecay: 1,
  hiddenUnits: 32,
  dropout: 0,
  validationSize: 200,
  limit: 1200,
  seed: 3,
  augment: false,
  backend: 'wasm',
  threads: 1,
} as const;

let runId = '';

beforeAll(async () => {
  await init(root, 'wasm');
  ({ runId } = await ask({ type: 'train', config }));
  await untilEvent((e) => e.type === 'finished' && e.runId === runId);
}, 180_000);

describe('restore', () => {
  it('restores the latest checkpoint by default and names it', async () => {
    const restored = await ask({ type: 'restore', runId, epoch: null });
    expect(restored).toMatchObject({ runId, epoch: 3, model: 'mlp' });
    expect(restored.metrics?.epoch).toBe(3);
  });

  it('refuses a missing run and a missing epoch with a clear error', async () => {
    await expect(ask({ type: 'restore', runId: 'nope', epoch: null })).rejects.toThrow(
      /run nope not found/,
    );
    await expect(ask({ type: 'restore', runId, epoch: 9 })).rejects.toThrow(/9/);
    await expect(ask({ type: 'restore', runId: '../x', epoch: null })).rejects.toThrow(/runId/);
  });
});

describe('modelFiles', () => {
  it('hands out the model without optimizer state; it predicts exactly as the worker does', async () => {
    const files = await ask({ type: 'modelFiles', runId, epoch: 3 });
    expect(files.weightSpecs.some((w) => w.name.includes('iter'))).toBe(false);
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: files.topology as tf.io.ModelArtifacts['modelTopology'],
        weightSpecs: files.weightSpecs,
        weightData: new Uint8Array(Buffer.from(files.weights, 'base64')).buffer,
      }),
    );
    const pixels = Array.from({ length: 784 }, (_, i) => ((i * 7919) % 255) / 255);
    const local = tf.tidy(() =>
      Array.from((model.predict(tf.tensor4d(pixels, [1, 28, 28, 1])) as tf.Tensor).dataSync()),
    );
    model.dispose();
    const remote = await ask({ type: 'predict', runId, epoch: 3, pixels });
    local.forEach((p, k) => expect(p).toBeCloseTo(remote.probabilities[k]!, 5));
    await expect(ask({ type: 'modelFiles', runId, epoch: 7 })).rejects.toThrow(/epoch 7/);
  });
});

describe('evaluate and examples', () => {
  let evaluation: ResultOf<'evaluate'>;
  beforeAll(async () => {
    evaluation = await ask({ type: 'evaluate', runId, epoch: 2 });
  }, 60_000);

  it('returns the most confidently wrong predictions, surest first', () => {
    const wrong = evaluation.count - Math.round(evaluation.accuracy * evaluation.count);
    expect(evaluation.mistakes).toHaveLength(Math.min(48, wrong));
    for (const m of evaluation.mistakes) {
      expect(m.predicted).not.toBe(m.label);
      expect(Math.max(...m.probabilities)).toBe(m.probabilities[m.predicted]);
      expect(Buffer.from(m.pixels, 'base64')).toHaveLength(784);
    }
    const confidence = evaluation.mistakes.map((m) => m.probabilities[m.predicted]!);
    expect(confidence).toEqual([...confidence].sort((a, b) => b - a));
  });

  it('keeps the test result in the run, where the listing shows it', async () => {
    const { runs } = await ask({ type: 'listRuns' });
    const listed = runs.find((r) => r.runId === runId)!;
    expect(listed.evaluations).toEqual([
      { epoch: 2, accuracy: evaluation.accuracy, loss: evaluation.loss, at: expect.any(String) },
    ]);
  });

  it('answers a confusion cell with exactly its images', async () => {
    // The largest off-diagonal cell, so the test has something to look at.
    let best = { actual: 0, predicted: 1, n: -1 };
    evaluation.confusion.forEach((row, actual) =>
      row.forEach((n, predicted) => {
        if (actual !== predicted && n > best.n) best = { actual, predicted, n };
      }),
    );
    const cell = await ask({ type: 'examples', runId, epoch: 2, ...best, limit: 500 });
    expect(cell.total).toBe(best.n);
    expect(cell.examples).toHaveLength(Math.min(500, best.n));
    for (const e of cell.examples)
      expect([e.label, e.predicted]).toEqual([best.actual, best.predicted]);
    const diagonal = await ask({
      type: 'examples',
      runId,
      epoch: 2,
      actual: 7,
      predicted: 7,
      limit: 5,
    });
    expect(diagonal.total).toBe(evaluation.confusion[7]![7]);
    expect(diagonal.examples).toHaveLength(5);
  });

  it('asks for an evaluation first when the checkpoint was not evaluated recently', async () => {
    await expect(
      ask({ type: 'examples', runId, epoch: 3, actual: 1, predicted: 1, limit: 5 }),
    ).rejects.toThrow(/evaluate epoch 3 of run .* first/);
    // An evaluation of another checkpoint keeps the earlier one's cells answerable.
    const third = await ask({ type: 'evaluate', runId, epoch: 3 });
    const cell = await ask({
      type: 'examples',
      runId,
      epoch: 2,
      actual: 1,
      predicted: 1,
      limit: 1,
    });
    const again = await ask({
      type: 'examples',
      runId,
      epoch: 3,
      actual: 1,
      predicted: 1,
      limit: 1,
    });
    expect(again.total).toBe(third.confusion[1]![1]);
    expect(cell.total).toBeGreaterThan(0);
  }, 60_000);
});

describe('resume', () => {
  it('resumes from an earlier checkpoint as a new run, keeping the original whole', async () => {
    const before = readdirSync(path.join(root, runId)).filter((n) => n.startsWith('epoch-'));
    const result = await ask({ type: 'resume', runId, epoch: 1, epochs: 2 });
    expect(result.branchedFrom).toEqual({ runId, epoch: 1 });
    expect(result.runId).not.toBe(runId);
    const finished = await untilEvent((e) => e.type === 'finished' && e.runId === result.runId);
    expect(finished).toMatchObject({ epochs: 2 });
    const started = events.find((e) => e.type === 'started' && e.runId === result.runId);
    expect(started).toMatchObject({ startEpoch: 2 });

    expect(readdirSync(path.join(root, runId)).filter((n) => n.startsWith('epoch-'))).toEqual(
      before,
    );
    const { runs } = await ask({ type: 'listRuns' });
    const branch = runs.find((r) => r.runId === result.runId)!;
    const original = runs.find((r) => r.runId === runId)!;
    expect(branch).toMatchObject({ status: 'finished', branchedFrom: { runId, epoch: 1 } });
    expect(branch.checkpoints.map((c) => [c.epoch, c.status])).toEqual([
      [1, 'ok'],
      [2, 'ok'],
    ]);
    expect(branch.history.map((m) => m.epoch)).toEqual([1, 2]);
    expect(branch.history[0]).toEqual(original.history[0]);
    expect(original.checkpoints).toHaveLength(3);
    // The branch has its own TensorBoard logs from epoch 1 on.
    expect(existsSync(path.join(root, result.runId, 'train'))).toBe(true);
  }, 120_000);

  it('refuses to resume from a damaged checkpoint and writes nothing', async () => {
    const runsBefore = readdirSync(root).sort();
    truncateSync(path.join(root, runId, 'epoch-002', 'weights.bin'), 10);
    await expect(ask({ type: 'resume', runId, epoch: 2, epochs: 3 })).rejects.toThrow(
      /truncated|damaged/,
    );
    expect(readdirSync(root).sort()).toEqual(runsBefore);
    await expect(ask({ type: 'restore', runId, epoch: 2 })).rejects.toThrow(/truncated|damaged/);
  });

  it('refuses to resume to an epoch count the checkpoint has already reached', async () => {
    await expect(ask({ type: 'resume', runId, epoch: 3, epochs: 3 })).rejects.toThrow(
      /more than 3 epochs/,
    );
  });
});

describe('renameRun', () => {
  it('names a run in run.json, trims it, clears it when blank, and checks what it is given', async () => {
    expect(await ask({ type: 'renameRun', runId, name: '  lr 2e-3, no dropout ' })).toEqual({
      runId,
      name: 'lr 2e-3, no dropout',
    });
    const named = (await ask({ type: 'listRuns' })).runs.find((r) => r.runId === runId)!;
    expect(named.name).toBe('lr 2e-3, no dropout');
    expect(await ask({ type: 'renameRun', runId, name: '   ' })).toEqual({ runId, name: null });
    expect((await ask({ type: 'listRuns' })).runs.find((r) => r.runId === runId)!.name).toBeNull();
    await expect(ask({ type: 'renameRun', runId, name: 'x'.repeat(81) })).rejects.toThrow(
      /at most 80 characters/,
    );
    await expect(ask({ type: 'renameRun', runId, name: 'two\nlines' })).rejects.toThrow(/one line/);
    await expect(ask({ type: 'renameRun', runId: 'nope', name: 'x' })).rejects.toThrow(
      /run nope not found/,
    );
  });
});

describe('delete', () => {
  it('deletes one checkpoint, then the run', async () => {
    await ask({ type: 'deleteRun', runId, epoch: 1 });
    let { runs } = await ask({ type: 'listRuns' });
    expect(runs.find((r) => r.runId === runId)!.checkpoints.map((c) => c.epoch)).toEqual([2, 3]);
    await ask({ type: 'deleteRun', runId, epoch: null });
    ({ runs } = await ask({ type: 'listRuns' }));
    expect(runs.some((r) => r.runId === runId)).toBe(false);
    await expect(ask({ type: 'deleteRun', runId, epoch: null })).rejects.toThrow(/not found/);
  });
});
