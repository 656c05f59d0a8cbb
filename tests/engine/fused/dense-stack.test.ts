import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { planDenseStack } from '../../../src-main/engine/fused/dense-stack';
import { buildModel, compileModel } from '../../../src-main/engine/models';

const compiled = (model: tf.LayersModel, optimizer: tf.Optimizer = tf.train.adam(1e-3)) => {
  model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy' });
  return model;
};

describe('planDenseStack', () => {
  it('plans the mlp preset: Flatten → Dense(relu) → Dropout → Dense(softmax)', () => {
    const model = buildModel({ model: 'mlp', hiddenUnits: 64, dropout: 0.2, seed: 1 });
    compileModel(model, 1e-3);
    const plan = planDenseStack(model);
    if (typeof plan === 'string') throw new Error(plan);
    expect(plan.inputSize).toBe(784);
    expect(plan.layers).toEqual([
      { inputs: 784, units: 64, activation: 'relu', hasBias: true, dropout: 0.2 },
      { inputs: 64, units: 10, activation: 'softmax', hasBias: true, dropout: 0 },
    ]);
    expect(plan.variables).toEqual(model.trainableWeights);
    model.dispose();
  });

  it('plans deeper stacks with linear layers, no bias and several dropouts', () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [20], units: 8, activation: 'linear', useBias: false }),
        tf.layers.dropout({ rate: 0.5 }),
        tf.layers.dense({ units: 6, activation: 'relu' }),
        tf.layers.dropout({ rate: 0.1 }),
        tf.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    const plan = planDenseStack(compiled(model));
    if (typeof plan === 'string') throw new Error(plan);
    expect(plan.layers.map((l) => [l.inputs, l.units, l.activation, l.hasBias, l.dropout])).toEqual(
      [
        [20, 8, 'linear', false, 0.5],
        [8, 6, 'relu', true, 0.1],
        [6, 3, 'softmax', true, 0],
      ],
    );
    model.dispose();
  });

  it('refuses what the fused step does not compute, with the reason', () => {
    const cases: [string, () => tf.LayersModel][] = [
      [
        'unsupported layer Conv2D',
        () => compiled(buildModel({ model: 'cnn', hiddenUnits: 128, dropout: 0.5, seed: 1 })),
      ],
      [
        'not Adam',
        () =>
          compiled(
            buildModel({ model: 'mlp', hiddenUnits: 8, dropout: 0, seed: 1 }),
            tf.train.sgd(0.1),
          ),
      ],
      [
        'kernelRegularizer',
        () =>
          compiled(
            tf.sequential({
              layers: [
                tf.layers.dense({
                  inputShape: [4],
                  units: 3,
                  activation: 'softmax',
                  kernelRegularizer: tf.regularizers.l2(),
                }),
              ],
            }),
          ),
      ],
      [
        'activation tanh',
        () =>
          compiled(
            tf.sequential({
              layers: [
                tf.layers.dense({ inputShape: [4], units: 3, activation: 'tanh' }),
                tf.layers.dense({ units: 3, activation: 'softmax' }),
              ],
            }),
          ),
      ],
      [
        'seed',
        () =>
          compiled(
            tf.sequential({
              layers: [
                tf.layers.dense({ inputShape: [4], units: 3, activation: 'relu' }),
                tf.layers.dropout({ rate: 0.5, seed: 1 }),
                tf.layers.dense({ units: 3, activation: 'softmax' }),
              ],
            }),
          ),
      ],
      [
        'does not end in a softmax',
        () => compiled(tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3 })] })),
      ],
      [
        'non-trainable',
        () => {
          const m = tf.sequential({
            layers: [
              tf.layers.dense({ inputShape: [4], units: 3, activation: 'relu', trainable: false }),
              tf.layers.dense({ units: 3, activation: 'softmax' }),
            ],
          });
          return compiled(m);
        },
      ],
    ];
    for (const [reason, make] of cases) {
      const model = make();
      expect(planDenseStack(model)).toMatch(new RegExp(reason));
      model.dispose();
    }
  });
});
