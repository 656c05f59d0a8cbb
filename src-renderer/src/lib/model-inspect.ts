import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { argmax } from '$shared/argmax';
import { MNIST_PIXELS, MNIST_SIDE } from '$shared/preprocess';

/**
 * A look inside a model for one 28×28 input, as plain arrays the Draw panel can paint: every
 * layer's activations (CNN Explainer's view), the input pixels that made the predicted digit
 * (integrated gradients) and the first layer's filters. Everything here runs synchronously on
 * whichever tfjs backend is active and leaves no tensor behind.
 */

/** tfjs-layers does not export its Layer class by name. */
type Layer = tfl.LayersModel['layers'][number];

export interface LayerActivation {
  name: string;
  /** Keras class name: Conv2D, MaxPooling2D, BatchNormalization, Dense… */
  className: string;
  /** Output shape without the batch axis, as the model summary shows it: [26, 26, 32], [128]. */
  shape: number[];
  /** Channels last, as tfjs lays them out: value (y, x, c) is at (y · width + x) · channels + c. */
  data: Float32Array;
}

export interface Saliency {
  method: 'integrated-gradients';
  /** Points on the straight path from the black baseline to the input. */
  steps: number;
  /** The class explained: the predicted digit. */
  digit: number;
  /** One attribution per input pixel, row-major 28×28; positive pixels raise the class's probability. */
  values: Float32Array;
  sum: number;
  /** Largest |attribution|. */
  maxAbs: number;
  /** f(input) − f(black image) for the digit: what the attributions add up to, if the path is fine enough. */
  delta: number;
}

export interface Filters {
  /** conv: the first Conv2D's kernels; dense: the first Dense layer's weights per hidden unit. */
  kind: 'conv' | 'dense';
  layer: string;
  /** Height and width of one filter image: the kernel (3×3) or the input (28×28). */
  height: number;
  width: number;
  /** How many the layer has; `data` holds the first `shown` of them. */
  total: number;
  shown: number;
  /** Filter after filter, each row-major height × width. */
  data: Float32Array;
}

export interface Inspection {
  activations: LayerActivation[];
  digit: number;
  /** Null when it was not asked for (it costs far more than the activations). */
  saliency: Saliency | null;
}

/**
 * 16 midpoints in one batch: on the presets the attributions add up to within 5 % of delta
 * (tests/renderer/lib/model-inspect.test.ts), and a CNN's pass costs about half of 32's.
 */
export const SALIENCY_STEPS = 16;

// Tensor methods (x.reshape()) are absent from the window's tfjs-core build, which leaves out the
// chained ops: only the functional ops (tf.reshape(x)) are used here.
export class ModelInspector {
  readonly #layers: Layer[];
  /**
   * One model over the same layers whose outputs are every layer's output: one forward pass
   * gives them all. It owns no weights, so it is never disposed (disposing it would release the
   * layers' weights, which the loaded model still uses).
   */
  readonly #tap: tfl.LayersModel;
  /** The model's ten outputs for the black baseline, computed once per model. */
  #baseline: Float32Array | null = null;
  /** The model as plain ops whose gradients tfjs' WASM backend has (see unfusedForward). */
  readonly #differentiable: (x: tf.Tensor) => tf.Tensor;

  constructor(model: tfl.LayersModel) {
    this.#layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
    this.#tap = tfl.model({
      inputs: model.inputs,
      outputs: this.#layers.map((l) => l.output as tfl.SymbolicTensor),
    });
    this.#differentiable = unfusedForward(this.#layers);
  }

  /** Every layer's output for a 28×28 image in [0, 1], in model order (the last is the softmax). */
  activations(pixels: Float32Array): LayerActivation[] {
    const values = tf.tidy(() => {
      const outputs = this.#tap.predict(image(pixels));
      return (Array.isArray(outputs) ? outputs : [outputs]).map(
        (t) => t.dataSync() as Float32Array,
      );
    });
    return this.#layers.map((layer, i) => ({
      name: layer.name,
      className: layer.getClassName(),
      shape: outputShape(layer),
      // dataSync may hand back a view of the backend's memory: copy what we keep.
      data: Float32Array.from(values[i]!),
    }));
  }

  /**
   * Integrated gradients (Sundararajan et al. 2017) of the probability of `digit`, from a black
   * image to the input: (x − 0) times the mean gradient at `steps` midpoints of the path, all
   * midpoints in one batch. Unlike a plain gradient, the attributions add up to f(x) − f(0), so a
   * pixel's share is a share of the answer; a blank input gets none.
   */
  saliency(pixels: Float32Array, digit: number, steps = SALIENCY_STEPS): Saliency {
    const run = this.saliencyInParts(pixels, digit, steps, steps);
    for (;;) {
      const next = run.next();
      if (next.done) return next.value;
    }
  }

  /**
   * The same integrated gradients, `perPart` midpoints at a time: each next() computes one part,
   * so a caller can yield to the page between parts (a CNN's whole batch blocks it for up to half
   * a second) and drop the rest when the drawing changes. No tensor outlives a part.
   */
  *saliencyInParts(
    pixels: Float32Array,
    digit: number,
    steps = SALIENCY_STEPS,
    perPart = 4,
  ): Generator<void, Saliency, void> {
    const gradientSum = new Float32Array(MNIST_PIXELS);
    for (let from = 0; from < steps; from += perPart) {
      const part = this.#pathGradientSum(
        pixels,
        digit,
        steps,
        from,
        Math.min(steps, from + perPart),
      );
      for (let i = 0; i < MNIST_PIXELS; i++) gradientSum[i]! += part[i]!;
      if (from + perPart < steps) yield;
    }
    const values = new Float32Array(MNIST_PIXELS);
    let sum = 0;
    let maxAbs = 0;
    for (let i = 0; i < MNIST_PIXELS; i++) {
      // The baseline is black, so (x − baseline) is x.
      const v = (gradientSum[i]! / steps) * pixels[i]!;
      values[i] = v;
      sum += v;
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
    const fx = this.#outputs(pixels);
    this.#baseline ??= this.#outputs(new Float32Array(MNIST_PIXELS));
    const delta = fx[digit]! - this.#baseline[digit]!;
    return { method: 'integrated-gradients', steps, digit, values, sum, maxAbs, delta };
  }

  /** Σ ∂p(digit)/∂x at the path's midpoints from ≤ k < to, one batch. */
  #pathGradientSum(
    pixels: Float32Array,
    digit: number,
    steps: number,
    from: number,
    to: number,
  ): Float32Array {
    const forward = this.#differentiable;
    const n = to - from;
    return Float32Array.from(
      tf.tidy(() => {
        const x = image(pixels);
        const alphas = tf.tensor1d(Array.from({ length: n }, (_, k) => (from + k + 0.5) / steps));
        const path = tf.mul(tf.reshape(alphas, [n, 1, 1, 1]), x);
        // The images of a batch do not interact, so the gradient of the sum is each one's.
        const classProbability = (batch: tf.Tensor) =>
          tf.sum(tf.slice(forward(batch) as tf.Tensor2D, [0, digit], [-1, 1]));
        const gradients = tf.grad(classProbability)(path);
        return tf.sum(gradients, 0).dataSync() as Float32Array;
      }),
    );
  }

  /** Activations, the predicted digit and, unless steps is null, its saliency. */
  inspect(pixels: Float32Array, steps: number | null = SALIENCY_STEPS): Inspection {
    const activations = this.activations(pixels);
    const digit = argmax(activations.at(-1)!.data);
    const saliency = steps === null ? null : this.saliency(pixels, digit, steps);
    return { activations, digit, saliency };
  }

  /**
   * What the first layer looks for: a CNN's first convolution kernels, or an MLP's first Dense
   * layer's 784 weights per hidden unit laid out as the 28×28 image they are multiplied with.
   * Null when the first weighted layer is neither.
   */
  filters(limit: number): Filters | null {
    const first = this.#layers.find((l) => l.getWeights().length > 0);
    if (!first) return null;
    const kernel = first.getWeights()[0]!;
    const kind = first.getClassName();
    if (kind === 'Conv2D' && kernel.rank === 4 && kernel.shape[2] === 1) {
      const [height, width, , total] = kernel.shape as [number, number, number, number];
      return this.#unitFilters(kernel, 'conv', first.name, height, width, total, limit);
    }
    if (kind === 'Dense' && kernel.rank === 2 && kernel.shape[0] === MNIST_PIXELS) {
      const total = kernel.shape[1]!;
      return this.#unitFilters(kernel, 'dense', first.name, MNIST_SIDE, MNIST_SIDE, total, limit);
    }
    return null;
  }

  /** Kernels are [inputs…, units]: units become rows, so each filter is contiguous. */
  #unitFilters(
    kernel: tf.Tensor,
    kind: Filters['kind'],
    layer: string,
    height: number,
    width: number,
    total: number,
    limit: number,
  ): Filters {
    const shown = Math.min(limit, total);
    const data = tf.tidy(
      () =>
        tf
          .slice(
            tf.transpose(tf.reshape(kernel, [height * width, total])),
            [0, 0],
            [shown, height * width],
          )
          .dataSync() as Float32Array,
    );
    return { kind, layer, height, width, total, shown, data: Float32Array.from(data) };
  }

  /** The replica's ten outputs (the model's, see unfusedForward) for one image. */
  #outputs(pixels: Float32Array): Float32Array {
    return Float32Array.from(
      tf.tidy(() => this.#differentiable(image(pixels)).dataSync() as Float32Array),
    );
  }
}

function image(pixels: Float32Array): tf.Tensor4D {
  return tf.tensor4d(pixels, [1, MNIST_SIDE, MNIST_SIDE, 1]);
}

function outputShape(layer: Layer): number[] {
  const shape = layer.outputShape as (number | null)[];
  return shape.slice(1).map((d) => d ?? 0);
}

/**
 * The layers' inference computation rebuilt from unfused ops. tfjs-layers runs Conv2D as a fused
 * op whose gradient always includes the kernel's, and tfjs' WASM backend has no
 * Conv2DBackpropFilter kernel: through the layers, a gradient of a CNN's input throws there.
 * Plain conv2d lets the tape compute the input's gradient alone, which is also half the work.
 * Throws for a layer it does not know, so a new preset shows no saliency rather than a wrong one.
 */
export function unfusedForward(layers: readonly Layer[]): (x: tf.Tensor) => tf.Tensor {
  const steps = layers.map((layer) => layerOp(layer));
  return (x) => steps.reduce((y, step) => step(y), x);
}

function layerOp(layer: Layer): (x: tf.Tensor) => tf.Tensor {
  const config = layer.getConfig();
  const weight = (name: string) =>
    layer.weights.find((w) => w.originalName.endsWith(`/${name}`))?.read();
  const kind = layer.getClassName();
  switch (kind) {
    case 'Flatten':
      return (x) => tf.reshape(x, [x.shape[0], -1]);
    case 'Dropout':
      return (x) => x;
    case 'ReLU':
      return (x) => tf.relu(x);
    case 'Activation':
      return activation(config.activation);
    case 'Dense': {
      const kernel = weight('kernel') as tf.Tensor2D;
      const bias = weight('bias');
      const act = activation(config.activation);
      return (x) =>
        act(
          bias
            ? tf.add(tf.matMul(x as tf.Tensor2D, kernel), bias)
            : tf.matMul(x as tf.Tensor2D, kernel),
        );
    }
    case 'Conv2D': {
      const kernel = weight('kernel') as tf.Tensor4D;
      const bias = weight('bias');
      const act = activation(config.activation);
      const strides = config.strides as [number, number];
      const padding = config.padding as 'valid' | 'same';
      const dilations = config.dilationRate as [number, number];
      if (config.dataFormat !== 'channelsLast') break;
      return (x) => {
        const y = tf.conv2d(x as tf.Tensor4D, kernel, strides, padding, 'NHWC', dilations);
        return act(bias ? tf.add(y, bias) : y);
      };
    }
    case 'MaxPooling2D': {
      const pool = config.poolSize as [number, number];
      const strides = (config.strides ?? pool) as [number, number];
      const padding = config.padding as 'valid' | 'same';
      if (config.dataFormat !== 'channelsLast') break;
      return (x) => tf.maxPool(x as tf.Tensor4D, pool, strides, padding);
    }
    case 'BatchNormalization': {
      const mean = weight('moving_mean')!;
      const variance = weight('moving_variance')!;
      const gamma = weight('gamma');
      const beta = weight('beta');
      const epsilon = config.epsilon as number;
      const axis = config.axis as number;
      return (x) => {
        // tf.batchNorm broadcasts its parameters along the last axis only.
        if (axis !== -1 && axis !== x.rank - 1)
          throw new Error(`no saliency for BatchNorm on axis ${axis}`);
        return tf.batchNorm(x, mean, variance, beta, gamma, epsilon);
      };
    }
  }
  throw new Error(`no saliency for a ${kind} layer`);
}

function activation(name: unknown): (x: tf.Tensor) => tf.Tensor {
  switch (name ?? 'linear') {
    case 'linear':
      return (x) => x;
    case 'relu':
      return (x) => tf.relu(x);
    case 'softmax':
      return (x) => tf.softmax(x);
    case 'sigmoid':
      return (x) => tf.sigmoid(x);
    case 'tanh':
      return (x) => tf.tanh(x);
  }
  throw new Error(`no saliency through a ${String(name)} activation`);
}
