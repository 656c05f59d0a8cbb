import type { ExportLayer, ExportModel, Weight } from './model-layers';

/**
 * config.json and the weight order of a Keras 3 `.keras` archive, as keras.saving's saving_lib
 * writes them (checked against Keras 3.15.1 by bench/check-export.py). A layer's config names only
 * the arguments that change what it computes, plus those every Keras 3 release knows: Keras fills
 * the rest with its defaults, and arguments added in later releases (InputLayer's `optional`,
 * Dense's `quantization_config`) would make earlier ones refuse the file.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The Keras release whose saving_lib the layout was checked against. */
export const KERAS_VERSION = '3.15.1';

const initializer = (className: string): Json => ({
  module: 'keras.initializers',
  class_name: className,
  config: {},
  registered_name: null,
});

const shape = (s: (number | null)[]): Json => [...s];

/** Keras's class name for a layer, and the arguments of its config. */
function kerasLayer(layer: ExportLayer): { className: string; config: Record<string, Json> } {
  switch (layer.kind) {
    case 'conv2d':
      return {
        className: 'Conv2D',
        config: {
          filters: layer.filters,
          kernel_size: [...layer.kernelSize],
          strides: [...layer.strides],
          padding: layer.padding,
          data_format: 'channels_last',
          dilation_rate: [...layer.dilation],
          groups: 1,
          activation: layer.activation,
          use_bias: layer.bias !== null,
          // Initializers only matter to training from scratch; the weights come from the checkpoint.
          kernel_initializer: initializer('GlorotUniform'),
          bias_initializer: initializer('Zeros'),
        },
      };
    case 'maxPooling2d':
      return {
        className: 'MaxPooling2D',
        config: {
          pool_size: [...layer.poolSize],
          strides: [...layer.strides],
          padding: layer.padding,
          data_format: 'channels_last',
        },
      };
    case 'flatten':
      return { className: 'Flatten', config: { data_format: 'channels_last' } };
    case 'dense':
      return {
        className: 'Dense',
        config: {
          units: layer.units,
          activation: layer.activation,
          use_bias: layer.bias !== null,
          kernel_initializer: initializer('GlorotUniform'),
          bias_initializer: initializer('Zeros'),
        },
      };
    case 'dropout':
      return { className: 'Dropout', config: { rate: layer.rate } };
    case 'batchNormalization':
      return {
        className: 'BatchNormalization',
        config: {
          axis: -1,
          momentum: layer.momentum,
          epsilon: layer.epsilon,
          center: layer.beta !== null,
          scale: layer.gamma !== null,
        },
      };
    case 'activation':
      return layer.className === 'ReLU'
        ? {
            className: 'ReLU',
            config: { max_value: null, negative_slope: 0, threshold: 0 },
          }
        : { className: 'Activation', config: { activation: layer.activation } };
  }
}

export function kerasConfig(model: ExportModel): Json {
  const layers: Json[] = [
    {
      module: 'keras.layers',
      class_name: 'InputLayer',
      config: { batch_shape: shape(model.inputShape), dtype: 'float32', name: 'input_layer' },
      registered_name: null,
    },
    ...model.layers.map((layer): Json => {
      const { className, config } = kerasLayer(layer);
      return {
        module: 'keras.layers',
        class_name: className,
        config: { name: layer.name, trainable: true, dtype: 'float32', ...config },
        registered_name: null,
        build_config: { input_shape: shape(layer.inputShape) },
      };
    }),
  ];
  return {
    module: 'keras',
    class_name: 'Sequential',
    config: {
      name: model.name,
      trainable: true,
      dtype: 'float32',
      layers,
      build_input_shape: shape(model.inputShape),
    },
    registered_name: null,
    build_config: { input_shape: shape(model.inputShape) },
  };
}

/** keras.src.utils.naming.to_snake_case: "BatchNormalization" → "batch_normalization". */
export function toSnakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

export interface KerasLayerWeights {
  /** The HDF5 group, `layers/<class in snake case>[_k]`: saving_lib names them by class, not name. */
  path: string;
  /** The layer's own name, which saving_lib keeps as the `name` attribute of its `vars` group. */
  name: string;
  /** In Keras's creation order; stored as datasets "0", "1", …. */
  vars: Weight[];
}

function varsOf(layer: ExportLayer): Weight[] {
  switch (layer.kind) {
    case 'conv2d':
    case 'dense':
      return layer.bias ? [layer.kernel, layer.bias] : [layer.kernel];
    case 'batchNormalization':
      return [
        ...(layer.gamma ? [layer.gamma] : []),
        ...(layer.beta ? [layer.beta] : []),
        layer.movingMean,
        layer.movingVariance,
      ];
    default:
      return [];
  }
}

/**
 * Every layer, with or without weights (saving_lib writes an empty `vars` group for a Flatten),
 * numbered per class the way its _get_unique_name does: dense, dense_1, dense_2.
 */
export function kerasWeights(model: ExportModel): KerasLayerWeights[] {
  const used = new Map<string, number>();
  return model.layers.map((layer) => {
    const base = toSnakeCase(kerasLayer(layer).className);
    const seen = used.get(base);
    used.set(base, seen === undefined ? 0 : seen + 1);
    const unique = seen === undefined ? base : `${base}_${seen + 1}`;
    return { path: `layers/${unique}`, name: layer.name, vars: varsOf(layer) };
  });
}
