import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { MODEL_PRESETS, PRESET_DEFAULTS } from '../../src-main/contract/config';
import { buildModel } from '../../src-main/engine/models';
import { modelSummary } from '../../src-main/shared/model-summary';

// The summary is worked out from the config alone; the model the engine builds is the truth.

const specs = MODEL_PRESETS.flatMap((model) => [
  { ...PRESET_DEFAULTS[model] },
  { ...PRESET_DEFAULTS[model], hiddenUnits: 37, dropout: 0.25 },
  { ...PRESET_DEFAULTS[model], hiddenUnits: 256, dropout: 0 },
]);

describe('modelSummary', () => {
  it.each(specs)(
    'matches the built model: $model, $hiddenUnits units, dropout $dropout',
    (spec) => {
      const model = buildModel(spec);
      try {
        const summary = modelSummary(spec);
        expect(summary.rows.map((r) => r.layer)).toEqual(model.layers.map((l) => l.getClassName()));
        expect(summary.rows.map((r) => r.outputShape)).toEqual(
          model.layers.map((l) => (l.outputShape as (number | null)[]).slice(1)),
        );
        expect(summary.rows.map((r) => r.params)).toEqual(model.layers.map((l) => l.countParams()));
        expect(summary.total).toBe(model.countParams());
        const size = (ws: tf.LayerVariable[]) =>
          ws.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
        expect(summary.trainable).toBe(size(model.trainableWeights));
        expect(summary.nonTrainable).toBe(size(model.nonTrainableWeights));
      } finally {
        model.dispose();
      }
    },
  );

  it('gives the Keras script’s totals: 101,770 parameters for the mlp', () => {
    const mlp = modelSummary(PRESET_DEFAULTS.mlp);
    expect(mlp.total).toBe(784 * 128 + 128 + 128 * 10 + 10);
    expect(mlp.nonTrainable).toBe(0);
  });
});
