import type * as tf from '@tensorflow/tfjs';

/**
 * Recognises the models the fused training step can run: an optional Flatten, then Dense layers
 * (ReLU or linear, no regularisers or constraints), each optionally followed by one unseeded
 * Dropout, ending in a softmax Dense, with every weight trainable and Adam as the optimizer.
 * Anything else returns the reason, and the trainer uses tfjs' own gradients.
 */

export type HiddenActivation = 'relu' | 'linear';

export interface DenseLayerPlan {
  inputs: number;
  units: number;
  activation: HiddenActivation | 'softmax';
  hasBias: boolean;
  /** Rate of the Dropout right after this layer; 0 when there is none. */
  dropout: number;
}

export interface DenseStackPlan {
  inputSize: number;
  layers: DenseLayerPlan[];
  /** The model's trainable variables in the order the plan uses (kernel, bias per layer). */
  variables: tf.LayerVariable[];
}

interface LayerLike {
  getClassName(): string;
  getConfig(): Record<string, unknown>;
  trainable: boolean;
  trainableWeights: tf.LayerVariable[];
  nonTrainableWeights: tf.LayerVariable[];
}

const isSet = (v: unknown) => v !== null && v !== undefined;

export function planDenseStack(model: tf.LayersModel): DenseStackPlan | string {
  const className = (
    model.optimizer as { getClassName?: () => string } | undefined
  )?.getClassName?.();
  if (className !== 'Adam') return `the optimizer is ${className ?? 'missing'}, not Adam`;
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return 'not a single-input model';
  const inputShape = model.inputs[0]!.shape.slice(1);
  if (inputShape.some((d) => d === null)) return 'the input shape is not fully known';
  let width = (inputShape as number[]).reduce((a, b) => a * b, 1);
  let flat = inputShape.length === 1;

  const layers: DenseLayerPlan[] = [];
  const variables: tf.LayerVariable[] = [];
  for (const layer of model.layers as unknown as LayerLike[]) {
    const kind = layer.getClassName();
    const config = layer.getConfig();
    if (layer.nonTrainableWeights.length > 0) return `${kind} has non-trainable weights`;
    if (kind === 'InputLayer') continue;
    if (kind === 'Flatten') {
      if (layers.length > 0) return 'Flatten after a Dense layer';
      flat = true;
      continue;
    }
    if (kind === 'Dropout') {
      const last = layers.at(-1);
      if (!last || last.dropout > 0) return 'Dropout not directly after a Dense layer';
      if (isSet(config.noiseShape) || isSet(config.seed))
        return 'Dropout with a noise shape or seed';
      last.dropout = Number(config.rate);
      continue;
    }
    if (kind !== 'Dense') return `unsupported layer ${kind}`;
    if (!flat) return 'Dense on an input that is not flat';
    const activation = String(config.activation);
    if (activation !== 'relu' && activation !== 'linear' && activation !== 'softmax')
      return `Dense activation ${activation}`;
    for (const key of [
      'kernelRegularizer',
      'biasRegularizer',
      'activityRegularizer',
      'kernelConstraint',
      'biasConstraint',
    ])
      if (isSet(config[key])) return `Dense with ${key}`;
    if (!layer.trainable) return 'a frozen Dense layer';
    const hasBias = config.useBias !== false;
    const units = Number(config.units);
    const weights = layer.trainableWeights;
    if (weights.length !== (hasBias ? 2 : 1)) return 'Dense with unexpected weights';
    const [kernel, bias] = weights;
    if (kernel!.shape[0] !== width || kernel!.shape[1] !== units) return 'Dense kernel shape';
    if (bias && bias.shape[0] !== units) return 'Dense bias shape';
    variables.push(...weights);
    layers.push({ inputs: width, units, activation, hasBias, dropout: 0 });
    width = units;
  }
  const last = layers.at(-1);
  if (!last || last.activation !== 'softmax') return 'the model does not end in a softmax Dense';
  if (last.dropout > 0) return 'Dropout after the output layer';
  if (layers.slice(0, -1).some((l) => l.activation === 'softmax'))
    return 'softmax before the output layer';
  const trainable = model.trainableWeights;
  if (trainable.length !== variables.length || trainable.some((w, i) => w !== variables[i]))
    return 'trainable weights in an unexpected order';
  return {
    inputSize: (inputShape as number[]).reduce((a, b) => a * b, 1),
    layers,
    variables,
  };
}
