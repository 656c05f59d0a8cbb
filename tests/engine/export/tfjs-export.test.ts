import * as tf from '@tensorflow/tfjs';
import { unzipSync } from 'fflate';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../../src-main/engine/checkpoints';
import { exportCheckpoint } from '../../../src-main/engine/export/export-checkpoint';
import { testImages, writePresetRun } from '../../fixtures/export-runs';
import { tempDir } from '../../helpers';

const root = tempDir();
const out = tempDir();
const COUNT = 16;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

interface ModelJson {
  modelTopology: tf.io.ModelArtifacts['modelTopology'];
  trainingConfig?: tf.io.TrainingConfig;
  weightsManifest: tf.io.WeightsManifestConfig;
}

/** tf.loadLayersModel over files as a file:// or http loader reads them: model.json, then its paths. */
function fromFiles(read: (name: string) => Uint8Array): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(Buffer.from(read('model.json')).toString('utf8')) as ModelJson;
      const buffers = json.weightsManifest.flatMap((group) =>
        group.paths.map((p) => read(p).slice().buffer as ArrayBuffer),
      );
      return {
        modelTopology: json.modelTopology,
        ...(json.trainingConfig ? { trainingConfig: json.trainingConfig } : {}),
        weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
        weightData: tf.io.concatenateArrayBuffers(buffers),
      };
    },
  };
}

const predict = (model: tf.LayersModel, images: Float32Array) =>
  tf.tidy(() =>
    Array.from((model.predict(tf.tensor4d(images, [COUNT, 28, 28, 1])) as tf.Tensor).dataSync()),
  );

describe('tfjs export', () => {
  it('writes a folder that tf.loadLayersModel loads and that predicts identically', async () => {
    const runId = await writePresetRun(root, 'cnn-fast');
    const folder = path.join(out, 'cnn-fast');
    const result = await exportCheckpoint(root, {
      runId,
      epoch: 1,
      format: 'tfjs',
      out: folder,
      withOptimizer: false,
      overwrite: false,
    });
    expect(readdirSync(folder).sort()).toEqual(['model.json', 'weights.bin']);
    expect(result.files.sort()).toEqual(['model.json', 'weights.bin']);
    const json = JSON.parse(readFileSync(path.join(folder, 'model.json'), 'utf8')) as ModelJson;
    // Inference only: neither the training config nor Adam's moments.
    expect(json.trainingConfig).toBeUndefined();
    expect(
      json.weightsManifest.flatMap((g) => g.weights).some((w) => w.group === 'optimizer'),
    ).toBe(false);

    const images = testImages(COUNT);
    const exported = await tf.loadLayersModel(
      fromFiles((name) => readFileSync(path.join(folder, name))),
    );
    const { model } = await loadCheckpoint(root, runId, 1);
    expect(exported.optimizer).toBeUndefined();
    expect(predict(exported, images)).toEqual(predict(model, images));
    exported.dispose();
    model.dispose();
  });

  it('writes a .zip of the same two files, with Adam’s state when asked', async () => {
    const runId = await writePresetRun(root, 'mlp');
    const zip = path.join(out, 'mlp.zip');
    await exportCheckpoint(root, {
      runId,
      epoch: null,
      format: 'tfjs',
      out: zip,
      withOptimizer: true,
      overwrite: false,
    });
    const entries = unzipSync(readFileSync(zip));
    expect(Object.keys(entries).sort()).toEqual(['model.json', 'weights.bin']);
    const exported = await tf.loadLayersModel(fromFiles((name) => entries[name]!));
    const { model } = await loadCheckpoint(root, runId, 1);
    expect(exported.optimizer?.getClassName()).toBe('Adam');
    const weightsOf = async (m: tf.LayersModel) =>
      (await m.optimizer!.getWeights()).map((w) => [w.name, Array.from(w.tensor.dataSync())]);
    expect(await weightsOf(exported)).toEqual(await weightsOf(model));
    const images = testImages(COUNT);
    expect(predict(exported, images)).toEqual(predict(model, images));
    exported.dispose();
    model.dispose();
  });
});
