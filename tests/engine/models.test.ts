import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MODEL_PRESETS, PRESET_DEFAULTS } from '../../src-main/contract/config';
import { buildModel } from '../../src-main/engine/models';
import { fieldApplies, presetForm } from '../../src-renderer/src/lib/form';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('model presets', () => {
  it('mlp is the seed script: Flatten → Dense(128, ReLU) → Dense(10, softmax)', () => {
    const model = buildModel({ ...PRESET_DEFAULTS.mlp, dropout: 0 });
    expect(model.layers.map((l) => l.getClassName())).toEqual(['Flatten', 'Dense', 'Dense']);
    expect(model.countParams()).toBe(784 * 128 + 128 + 128 * 10 + 10);
    expect(model.outputs[0]!.shape).toEqual([null, 10]);
    model.dispose();
  });

  it('mlp takes its hidden units and optional dropout from the config', () => {
    const model = buildModel({ ...PRESET_DEFAULTS.mlp, hiddenUnits: 64, dropout: 0.2 });
    expect(model.layers.map((l) => l.getClassName())).toEqual([
      'Flatten',
      'Dense',
      'Dropout',
      'Dense',
    ]);
    expect(model.countParams()).toBe(784 * 64 + 64 + 64 * 10 + 10);
    model.dispose();
  });

  it('cnn matches keras-io mnist_convnet (34,826 parameters)', () => {
    const model = buildModel(PRESET_DEFAULTS.cnn);
    expect(model.layers.map((l) => l.getClassName())).toEqual([
      'Conv2D',
      'MaxPooling2D',
      'Conv2D',
      'MaxPooling2D',
      'Flatten',
      'Dropout',
      'Dense',
    ]);
    expect(model.countParams()).toBe(34_826);
    model.dispose();
  });

  it('cnn-fast: three ReLU convolutions, BatchNorm after each pooling, a BatchNorm head', () => {
    const model = buildModel(PRESET_DEFAULTS['cnn-fast']);
    expect(model.layers.map((l) => l.getClassName())).toEqual([
      'Conv2D',
      'MaxPooling2D',
      'BatchNormalization',
      'Conv2D',
      'MaxPooling2D',
      'BatchNormalization',
      'Conv2D',
      'Flatten',
      'Dense',
      'BatchNormalization',
      'ReLU',
      'Dense',
    ]);
    expect(model.layers[7]!.outputShape).toEqual([null, 1152]);
    expect(model.layers[8]!.outputShape).toEqual([null, 128]);
    // 320 + 18,496 + 73,856 conv, 2·(2·32 + 2·64) BatchNorm, 147,456 head (no bias) and its
    // BatchNorm's 4·128, 1,290 output layer.
    expect(model.countParams()).toBe(320 + 18_496 + 73_856 + 384 + 147_456 + 512 + 1_290);
    // The head follows hiddenUnits, as the mlp's and cnn-strong's do.
    const narrow = buildModel({ ...PRESET_DEFAULTS['cnn-fast'], hiddenUnits: 32 });
    expect(narrow.layers[8]!.outputShape).toEqual([null, 32]);
    narrow.dispose();
    model.dispose();
  });

  it('cnn-strong uses BatchNorm and outputs a probability distribution', () => {
    const model = buildModel(PRESET_DEFAULTS['cnn-strong']);
    expect(model.layers.filter((l) => l.getClassName() === 'BatchNormalization')).toHaveLength(5);
    const probs = tf.tidy(() => model.predict(tf.randomUniform([3, 28, 28, 1])) as tf.Tensor);
    expect(probs.shape).toEqual([3, 10]);
    const sums = tf.sum(probs, 1).dataSync();
    for (const s of sums) expect(s).toBeCloseTo(1, 5);
    tf.dispose(probs);
    model.dispose();
  });

  it('the same seed gives the same initial weights; another seed does not', () => {
    const weights = (seed: number) => {
      const model = buildModel({ ...PRESET_DEFAULTS.mlp, seed });
      const w = Array.from(model.getWeights()[0]!.dataSync().slice(0, 50));
      model.dispose();
      return w;
    };
    expect(weights(7)).toEqual(weights(7));
    expect(weights(7)).not.toEqual(weights(8));
  });

  it('read hidden units and dropout exactly where the Train form shows them', () => {
    const layers = (spec: typeof PRESET_DEFAULTS.mlp) => {
      const model = buildModel(spec);
      // Layer names count up with every model built: left out.
      const shape = JSON.stringify(
        model.layers.map((l) => [l.getClassName(), l.getConfig()]),
        (key, value: unknown) => (key === 'name' ? undefined : value),
      );
      model.dispose();
      return shape;
    };
    for (const preset of MODEL_PRESETS) {
      const base = PRESET_DEFAULTS[preset];
      const form = presetForm(preset, 'auto');
      const readsHidden =
        layers({ ...base, hiddenUnits: 7 }) !== layers({ ...base, hiddenUnits: 9 });
      const readsDropout = layers({ ...base, dropout: 0.1 }) !== layers({ ...base, dropout: 0.3 });
      expect({ preset, readsHidden, readsDropout }).toEqual({
        preset,
        readsHidden: fieldApplies(form, 'hiddenUnits'),
        readsDropout: fieldApplies(form, 'dropout'),
      });
    }
  });
});
