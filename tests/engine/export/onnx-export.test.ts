import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { MODEL_PRESETS } from '../../../src-main/contract/config';
import { loadCheckpoint } from '../../../src-main/engine/checkpoints';
import { exportCheckpoint } from '../../../src-main/engine/export/export-checkpoint';
import { INPUT_NAME, OUTPUT_NAME } from '../../../src-main/engine/export/onnx-export';
import { testImages, writePresetRun } from '../../fixtures/export-runs';
import { tempDir } from '../../helpers';

const root = tempDir();
const out = tempDir();
const COUNT = 32;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('ONNX export', () => {
  it.each(MODEL_PRESETS)('%s predicts in onnxruntime what it predicts in TF.js', async (preset) => {
    const runId = await writePresetRun(root, preset);
    const file = path.join(out, `${preset}.onnx`);
    const result = await exportCheckpoint(root, {
      runId,
      epoch: null,
      format: 'onnx',
      out: file,
      withOptimizer: false,
      overwrite: false,
    });
    expect(result).toMatchObject({ runId, epoch: 1, format: 'onnx', path: file });

    const images = testImages(COUNT);
    const { model } = await loadCheckpoint(root, runId, 1);
    const expected = tf.tidy(() =>
      (model.predict(tf.tensor4d(images, [COUNT, 28, 28, 1])) as tf.Tensor).dataSync(),
    );
    model.dispose();

    const session = await ort.InferenceSession.create(readFileSync(file));
    expect(session.inputNames).toEqual([INPUT_NAME]);
    expect(session.outputNames).toEqual([OUTPUT_NAME]);
    const output = await session.run({
      [INPUT_NAME]: new ort.Tensor('float32', images, [COUNT, 28, 28, 1]),
    });
    const actual = output[OUTPUT_NAME]!;
    expect(actual.dims).toEqual([COUNT, 10]);
    const got = actual.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < expected.length; i++)
      worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
    expect(worst).toBeLessThan(1e-4);
    // Not trivially equal: the model must tell the images apart.
    const argmax = (p: ArrayLike<number>, i: number) => {
      let best = 0;
      for (let k = 1; k < 10; k++) if (p[i * 10 + k]! > p[i * 10 + best]!) best = k;
      return best;
    };
    const classes = new Set(Array.from({ length: COUNT }, (_, i) => argmax(expected, i)));
    expect(classes.size).toBeGreaterThan(1);
    for (let i = 0; i < COUNT; i++) expect(argmax(got, i)).toBe(argmax(expected, i));
    await session.release();
  });
});
