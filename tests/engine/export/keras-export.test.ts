import * as tf from '@tensorflow/tfjs';
import { strFromU8, unzipSync } from 'fflate';
import h5wasm, { type Dataset, type Group } from 'h5wasm/node';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelPreset } from '../../../src-main/contract/config';
import { loadCheckpoint } from '../../../src-main/engine/checkpoints';
import { exportCheckpoint } from '../../../src-main/engine/export/export-checkpoint';
import { toSnakeCase } from '../../../src-main/engine/export/keras-config';
import { writePresetRun } from '../../fixtures/export-runs';
import { tempDir } from '../../helpers';

const root = tempDir();
const out = tempDir();

beforeAll(async () => {
  await tf.setBackend('cpu');
  await h5wasm.ready;
});

/** Keras's weight order per layer, by the tfjs weight names (gamma before beta, as Keras builds). */
const KERAS_ORDER = ['kernel', 'bias', 'gamma', 'beta', 'moving_mean', 'moving_variance'];

async function exportKeras(preset: ModelPreset) {
  const runId = await writePresetRun(root, preset);
  const file = path.join(out, `${preset}.keras`);
  await exportCheckpoint(root, {
    runId,
    epoch: 1,
    format: 'keras',
    out: file,
    withOptimizer: false,
    overwrite: false,
  });
  const entries = unzipSync(readFileSync(file));
  const { model } = await loadCheckpoint(root, runId, 1);
  return { entries, model };
}

describe('Keras 3 export', () => {
  it('names the HDF5 groups by class like saving_lib', () => {
    expect(toSnakeCase('Conv2D')).toBe('conv2d');
    expect(toSnakeCase('MaxPooling2D')).toBe('max_pooling2d');
    expect(toSnakeCase('BatchNormalization')).toBe('batch_normalization');
    expect(toSnakeCase('ReLU')).toBe('re_lu');
    expect(toSnakeCase('Dense')).toBe('dense');
  });

  it.each(['cnn-strong', 'cnn-fast', 'cnn', 'mlp'] as const)(
    '%s: a .keras zip whose config and HDF5 weights are the model',
    async (preset) => {
      const { entries, model } = await exportKeras(preset);
      expect(Object.keys(entries).sort()).toEqual([
        'config.json',
        'metadata.json',
        'model.weights.h5',
      ]);
      const metadata = JSON.parse(strFromU8(entries['metadata.json']!));
      expect(metadata.keras_version).toMatch(/^3\./);
      expect(metadata.date_saved).toMatch(/^\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d$/);

      const config = JSON.parse(strFromU8(entries['config.json']!));
      expect(config).toMatchObject({ module: 'keras', class_name: 'Sequential' });
      const [input, ...layers] = config.config.layers as {
        class_name: string;
        config: Record<string, unknown>;
      }[];
      expect(input).toMatchObject({
        class_name: 'InputLayer',
        config: { batch_shape: [null, 28, 28, 1] },
      });
      const tfjsLayers = model.layers;
      expect(layers.map((l) => l.class_name)).toEqual(tfjsLayers.map((l) => l.getClassName()));
      expect(layers.map((l) => l.config.name)).toEqual(tfjsLayers.map((l) => l.name));

      const h5file = path.join(out, `${preset}.weights.h5`);
      writeFileSync(h5file, entries['model.weights.h5']!);
      const h5 = new h5wasm.File(h5file, 'r');
      try {
        const counts = new Map<string, number>();
        expect((h5.get('layers') as Group).keys()).toHaveLength(tfjsLayers.length);
        for (const layer of tfjsLayers) {
          // The groups Keras itself writes: layers/dense, layers/dense_1, …
          const base = toSnakeCase(layer.getClassName());
          const n = counts.get(base) ?? 0;
          counts.set(base, n + 1);
          const group = `layers/${n === 0 ? base : `${base}_${n}`}/vars`;
          const vars = h5.get(group) as Group;
          expect(vars, group).toBeInstanceOf(h5wasm.Group);
          expect(vars.get_attribute('name', true)).toBe(layer.name);
          const expected = layer.weights
            .map((w, i) => ({
              short: w.originalName.split('/').pop()!,
              tensor: layer.getWeights()[i]!,
            }))
            .sort((a, b) => KERAS_ORDER.indexOf(a.short) - KERAS_ORDER.indexOf(b.short));
          expect(vars.keys().sort()).toEqual(expected.map((_, i) => String(i)));
          expected.forEach(({ short, tensor }, i) => {
            const dataset = vars.get(String(i)) as Dataset;
            expect(dataset.shape, `${group}/${i} (${short})`).toEqual(tensor.shape);
            expect(dataset.dtype).toBe('<f');
            expect(Array.from(dataset.value as Float32Array)).toEqual(
              Array.from(tensor.dataSync()),
            );
          });
        }
        expect((h5.get('vars') as Group).get_attribute('name', true)).toBe(model.name);
      } finally {
        h5.close();
        model.dispose();
      }
    },
  );
});
