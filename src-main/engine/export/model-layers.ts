import * as tf from '@tensorflow/tfjs';

/**
 * A checkpoint's model as the Keras and ONNX writers need it: each layer's kind, the settings
 * that change what it computes, and its weights as plain arrays. Read from the LayersModel's own
 * configs, so every layer a preset uses is named here and anything else is refused by name
 * instead of being exported wrong.
 */

export class ExportError extends Error {
  override name = 'ExportError';
}

export const ACTIVATIONS = ['linear', 'relu', 'softmax', 'sigmoid', 'tanh'] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export type Padding = 'valid' | 'same';

export interface Weight {
  shape: number[];
  values: Float32Array;
}

interface Named {
  /** The tfjs layer name (conv2d_Conv2D1): unique in the model, kept as the exported name. */
  name: string;
  inputShape: (number | null)[];
  outputShape: (number | null)[];
}

export type ExportLayer = Named &
  (
    | {
        kind: 'conv2d';
        filters: number;
        kernelSize: [number, number];
        strides: [number, number];
        dilation: [number, number];
        padding: Padding;
        activation: Activation;
        /** [kh, kw, in, out], as tfjs and Keras both keep it. */
        kernel: Weight;
        bias: Weight | null;
      }
    | {
        kind: 'maxPooling2d';
        poolSize: [number, number];
        strides: [number, number];
        padding: Padding;
      }
    | { kind: 'flatten' }
    | {
        kind: 'dense';
        units: number;
        activation: Activation;
        /** [in, out]. */
        kernel: Weight;
        bias: Weight | null;
      }
    | { kind: 'dropout'; rate: number }
    | {
        kind: 'batchNormalization';
        momentum: number;
        epsilon: number;
        gamma: Weight | null;
        beta: Weight | null;
        movingMean: Weight;
        movingVariance: Weight;
      }
    /** A ReLU or Activation layer: an activation on its own. */
    | { kind: 'activation'; activation: Activation; className: 'ReLU' | 'Activation' }
  );

export interface ExportModel {
  name: string;
  /** [null, 28, 28, 1]: the batch dimension first, unknown. */
  inputShape: (number | null)[];
  layers: ExportLayer[];
}

type Config = Record<string, unknown>;

const pair = (value: unknown, what: string): [number, number] => {
  const v = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(v) || v.length !== 2 || !v.every((n) => Number.isInteger(n)))
    throw new ExportError(`${what} is ${JSON.stringify(value)}, not two whole numbers`);
  return [v[0] as number, v[1] as number];
};

function shapeOf(shape: tf.Shape | tf.Shape[], what: string): (number | null)[] {
  if (Array.isArray(shape[0])) throw new ExportError(`${what} has more than one input or output`);
  return [...(shape as tf.Shape)];
}

function activationOf(config: Config, layer: string): Activation {
  const name = config.activation ?? 'linear';
  if (typeof name !== 'string' || !(ACTIVATIONS as readonly string[]).includes(name))
    throw new ExportError(
      `layer ${layer} uses the activation ${JSON.stringify(name)}; export supports ${ACTIVATIONS.join(', ')}`,
    );
  return name as Activation;
}

function paddingOf(config: Config, layer: string): Padding {
  const padding = config.padding ?? 'valid';
  if (padding !== 'valid' && padding !== 'same')
    throw new ExportError(`layer ${layer} has padding ${JSON.stringify(padding)}`);
  return padding;
}

function channelsLast(config: Config, layer: string): void {
  const format = config.dataFormat ?? 'channelsLast';
  if (format !== 'channelsLast')
    throw new ExportError(
      `layer ${layer} is ${String(format)}; export supports channels-last layers, as the engine builds them`,
    );
}

/** The layer's weights by their short name (kernel, bias, gamma, moving_mean, …). */
function weightsOf(layer: tf.layers.Layer): Map<string, Weight> {
  const values = layer.getWeights();
  return new Map(
    layer.weights.map((w, i) => [
      w.originalName.split('/').pop()!,
      { shape: [...w.shape] as number[], values: values[i]!.dataSync() as Float32Array },
    ]),
  );
}

function required(weights: Map<string, Weight>, name: string, layer: string): Weight {
  const weight = weights.get(name);
  if (!weight) throw new ExportError(`layer ${layer} has no ${name} weight`);
  return weight;
}

function inputOf(layer: tf.layers.Layer): tf.SymbolicTensor {
  const input = layer.input;
  if (Array.isArray(input)) throw new ExportError(`layer ${layer.name} has more than one input`);
  return input;
}

function describeLayer(layer: tf.layers.Layer): ExportLayer {
  const name = layer.name;
  const config = layer.getConfig() as Config;
  const className = layer.getClassName();
  const named: Named = {
    name,
    inputShape: shapeOf(inputOf(layer).shape, `layer ${name}`),
    outputShape: shapeOf(layer.outputShape, `layer ${name}`),
  };
  const weights = weightsOf(layer);
  switch (className) {
    case 'Conv2D': {
      channelsLast(config, name);
      const kernel = required(weights, 'kernel', name);
      return {
        ...named,
        kind: 'conv2d',
        filters: config.filters as number,
        kernelSize: pair(config.kernelSize, `layer ${name}'s kernel size`),
        strides: pair(config.strides ?? 1, `layer ${name}'s strides`),
        dilation: pair(config.dilationRate ?? 1, `layer ${name}'s dilation rate`),
        padding: paddingOf(config, name),
        activation: activationOf(config, name),
        kernel,
        bias: config.useBias === false ? null : required(weights, 'bias', name),
      };
    }
    case 'MaxPooling2D': {
      channelsLast(config, name);
      const poolSize = pair(config.poolSize, `layer ${name}'s pool size`);
      return {
        ...named,
        kind: 'maxPooling2d',
        poolSize,
        strides:
          config.strides == null ? poolSize : pair(config.strides, `layer ${name}'s strides`),
        padding: paddingOf(config, name),
      };
    }
    case 'Flatten':
      channelsLast(config, name);
      return { ...named, kind: 'flatten' };
    case 'Dense':
      if (named.inputShape.length !== 2)
        throw new ExportError(
          `layer ${name} is a Dense layer on a ${named.inputShape.length}-D input; export supports it after a Flatten`,
        );
      return {
        ...named,
        kind: 'dense',
        units: config.units as number,
        activation: activationOf(config, name),
        kernel: required(weights, 'kernel', name),
        bias: config.useBias === false ? null : required(weights, 'bias', name),
      };
    case 'Dropout':
      return { ...named, kind: 'dropout', rate: config.rate as number };
    case 'BatchNormalization': {
      const axis = config.axis ?? -1;
      if (axis !== -1 && axis !== named.inputShape.length - 1)
        throw new ExportError(
          `layer ${name} normalises axis ${String(axis)}; export supports the last axis`,
        );
      return {
        ...named,
        kind: 'batchNormalization',
        momentum: (config.momentum as number | undefined) ?? 0.99,
        epsilon: (config.epsilon as number | undefined) ?? 1e-3,
        gamma: config.scale === false ? null : required(weights, 'gamma', name),
        beta: config.center === false ? null : required(weights, 'beta', name),
        movingMean: required(weights, 'moving_mean', name),
        movingVariance: required(weights, 'moving_variance', name),
      };
    }
    case 'ReLU':
      if (config.maxValue != null)
        throw new ExportError(
          `layer ${name} is a ReLU capped at ${String(config.maxValue)}; export supports an uncapped ReLU`,
        );
      return { ...named, kind: 'activation', activation: 'relu', className: 'ReLU' };
    case 'Activation':
      return {
        ...named,
        kind: 'activation',
        activation: activationOf(config, name),
        className: 'Activation',
      };
    default:
      throw new ExportError(
        `layer ${name} is of class ${className}, which export does not support (it supports Conv2D, MaxPooling2D, Flatten, Dense, Dropout, BatchNormalization, ReLU and Activation)`,
      );
  }
}

/** Throws an ExportError naming the first layer or setting the writers cannot represent. */
export function describeModel(model: tf.LayersModel): ExportModel {
  if (model.getClassName() !== 'Sequential')
    throw new ExportError(
      `the model is of class ${model.getClassName()}; export supports Sequential models (every preset is one)`,
    );
  const inputShape = shapeOf(model.inputs[0]!.shape, 'the model');
  if (model.inputs.length !== 1 || model.outputs.length !== 1)
    throw new ExportError('the model has more than one input or output');
  // Weights are read as float32 bytes: say so if a checkpoint ever holds anything else.
  const other = model.weights.find((w) => w.dtype !== 'float32');
  if (other) throw new ExportError(`weight ${other.originalName} is ${other.dtype}, not float32`);
  // The input layer holds nothing to export: inputShape stands for it.
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  return { name: model.name, inputShape, layers: layers.map(describeLayer) };
}
