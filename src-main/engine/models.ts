import * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../contract/config';

/**
 * The model presets. Every model takes [batch, 28, 28, 1] images in [0, 1] and ends in a
 * 10-way softmax, so data, checkpoints, evaluation and prediction never care which one it is.
 */

export const INPUT_SHAPE = [28, 28, 1] as const;

type ModelSpec = Pick<TrainConfig, 'model' | 'hiddenUnits' | 'dropout' | 'seed'>;

export function buildModel(spec: ModelSpec): tf.Sequential {
  // One seed per layer: same config, same initial weights, on every backend. Dropout gets none:
  // tfjs draws the same mask on every step when a Dropout layer has a fixed seed.
  let layerSeed = spec.seed;
  const init = () => tf.initializers.glorotUniform({ seed: layerSeed++ });
  const heInit = () => tf.initializers.heNormal({ seed: layerSeed++ });
  const model = tf.sequential({ name: spec.model });

  switch (spec.model) {
    case 'mlp':
      // The seed Keras script: Flatten → Dense(128, ReLU) → Dense(10, softmax).
      model.add(tf.layers.flatten({ inputShape: [...INPUT_SHAPE] }));
      model.add(
        tf.layers.dense({ units: spec.hiddenUnits, activation: 'relu', kernelInitializer: init() }),
      );
      if (spec.dropout > 0) model.add(tf.layers.dropout({ rate: spec.dropout }));
      break;
    case 'cnn':
      // keras-io mnist_convnet, layer for layer.
      model.add(
        tf.layers.conv2d({
          inputShape: [...INPUT_SHAPE],
          filters: 32,
          kernelSize: 3,
          activation: 'relu',
          kernelInitializer: init(),
        }),
      );
      model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
      model.add(
        tf.layers.conv2d({
          filters: 64,
          kernelSize: 3,
          activation: 'relu',
          kernelInitializer: init(),
        }),
      );
      model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
      model.add(tf.layers.flatten());
      if (spec.dropout > 0) model.add(tf.layers.dropout({ rate: spec.dropout }));
      break;
    case 'cnn-fast': {
      // Three 3×3 convolutions, each ReLU'd and (but the last) max-pooled, then batch-normalised:
      // 28→26→13→11→5→3, 3·3·128 = 1152 features, then a batch-normalised Dense head of
      // hiddenUnits: ~3.2 M multiply-adds an image (the cnn's 2.4 M, a cheap third layer on 5×5
      // maps, and 147 k for the head). BatchNorm after the pooling, not before the ReLU,
      // normalises a quarter of the values for the same effect on the next layer: on WASM
      // BatchNorm's passes (accel/layers/BatchNormalization.ts) each cover a whole activation, so
      // this order keeps them off the 26×26 maps. With one-cycle at 10x the cnn's rate it reaches
      // ~99.5 % test accuracy in three epochs and a little more in four (its default, which
      // fits two minutes on WASM: docs/benchmark.md, Time to accuracy); the head adds ~0.06 % over a plain softmax on the
      // 1152 features in PyTorch probes at the same cost (docs/benchmark.md, Time to accuracy).
      const conv = (filters: number, first = false) =>
        model.add(
          tf.layers.conv2d({
            ...(first ? { inputShape: [...INPUT_SHAPE] } : {}),
            filters,
            kernelSize: 3,
            activation: 'relu',
            kernelInitializer: heInit(),
          }),
        );
      conv(32, true);
      model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
      model.add(tf.layers.batchNormalization());
      conv(64);
      model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
      model.add(tf.layers.batchNormalization());
      conv(128);
      model.add(tf.layers.flatten());
      denseHead(model, spec.hiddenUnits, heInit());
      if (spec.dropout > 0) model.add(tf.layers.dropout({ rate: spec.dropout }));
      break;
    }
    case 'cnn-strong': {
      // Two conv blocks with BatchNorm: 'valid' padding keeps the FLOPs near 10 M per image,
      // which is what lets it run at a usable speed on WASM while still reaching ~99.5 %.
      const convBn = (filters: number, first = false) => {
        model.add(
          tf.layers.conv2d({
            ...(first ? { inputShape: [...INPUT_SHAPE] } : {}),
            filters,
            kernelSize: 3,
            useBias: false,
            kernelInitializer: heInit(),
          }),
        );
        model.add(tf.layers.batchNormalization());
        model.add(tf.layers.reLU());
      };
      convBn(32, true);
      convBn(32);
      model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
      convBn(64);
      convBn(64);
      model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
      model.add(tf.layers.flatten());
      denseHead(model, spec.hiddenUnits, heInit());
      if (spec.dropout > 0) model.add(tf.layers.dropout({ rate: spec.dropout }));
      break;
    }
    default: {
      const unknown: never = spec.model;
      throw new Error(`unknown model preset ${String(unknown)}`);
    }
  }
  model.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init() }));
  return model;
}

/** Dense(units, no bias) → BatchNorm → ReLU: the batch-normalised hidden layer of a CNN's head. */
function denseHead(
  model: tf.Sequential,
  units: number,
  kernelInitializer: ReturnType<typeof tf.initializers.heNormal>,
): void {
  model.add(tf.layers.dense({ units, useBias: false, kernelInitializer }));
  model.add(tf.layers.batchNormalization());
  model.add(tf.layers.reLU());
}

/** Compiled like the Keras script, so a saved model.json carries loss, metrics and optimizer. */
export function compileModel(model: tf.LayersModel, learningRate: number): void {
  model.compile({
    optimizer: tf.train.adam(learningRate),
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
}

export function countParams(model: tf.LayersModel): number {
  return model.countParams();
}
