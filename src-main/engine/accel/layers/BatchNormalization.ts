import * as tf from '@tensorflow/tfjs';
import { simdKernelsFor, type SimdKernels } from '../native/simd/module';
import type { AccelTuning } from '../tuning';
import { heapF32, makeF32, release, type BackendWasm, offsets } from '../wasm-backend';
import { callReplaced, replaceCall, restoreCall } from './replace-call';

/**
 * tfjs-layers' BatchNormalization in training mode, on the wasm backend, as one forward and one
 * backward pass of our SIMD kernels (native/simd/batch-norm.c) instead of the ~40 tfjs ops its
 * moments, normalisation and their gradients take: those were ~95 of a cnn-fast step's ~410 ms
 * at batch 128 (each op a full pass over the activation, Sum and Multiply alone 67 ms).
 *
 * It is not a kernel: tfjs builds BatchNormalization's training path from generic ops (Mean,
 * SquaredDifference, FusedBatchNorm and their gradients), none of which knows it is part of a
 * batch normalisation. So the layer's `call` is replaced while our kernels are registered (see
 * ../index.ts): in training, for channels-last input on wasm, it computes the same normalisation,
 * gradients and moving-statistics update; everything else (inference, another backend or axis,
 * a layer without β or γ) goes to tfjs' own call. The layer class, its weights and its saved form
 * are untouched, so checkpoints and Keras export never see the difference.
 */

/** The parts of tfjs-layers' BatchNormalization the training path reads. */
interface BatchNormLayer {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: LayerVariable | null;
  beta: LayerVariable | null;
  movingMean: LayerVariable;
  movingVariance: LayerVariable;
}

interface LayerVariable {
  read(): tf.Tensor;
  write(value: tf.Tensor): void;
}

type Call = (
  this: BatchNormLayer,
  inputs: tf.Tensor | tf.Tensor[],
  kwargs: Record<string, unknown>,
) => tf.Tensor | tf.Tensor[];

const layerClass = Object.getPrototypeOf(tf.layers.batchNormalization({})) as { call: Call };

/** Sends BatchNormalization's training path through our kernels (tuning.batchNorm permitting). */
export function installBatchNormalization(tuning: AccelTuning): void {
  uninstallBatchNormalization();
  if (!tuning.simd || !tuning.batchNorm) return;
  replaceCall(
    layerClass,
    (tfjsCall) =>
      function (this: BatchNormLayer, inputs: tf.Tensor | tf.Tensor[], kwargs) {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        if (kwargs?.['training'] !== true || x === undefined || !applies(this, x)) {
          return tfjsCall.call(this, inputs, kwargs);
        }
        return trainingCall(this, x, simdKernelsFor(tf.backend() as BackendWasm, tuning));
      } satisfies Call,
  );
}

/** tfjs' own BatchNormalization call again. */
export function uninstallBatchNormalization(): void {
  restoreCall(layerClass);
}

export function batchNormalizationInstalled(): boolean {
  return callReplaced(layerClass);
}

function applies(layer: BatchNormLayer, x: tf.Tensor): boolean {
  const axis = layer.axis >= 0 ? layer.axis : layer.axis + x.rank;
  return (
    tf.getBackend() === 'wasm' &&
    x.dtype === 'float32' &&
    x.rank >= 2 &&
    axis === x.rank - 1 &&
    x.size > 0 &&
    layer.center &&
    layer.scale &&
    layer.gamma !== null &&
    layer.beta !== null
  );
}

/** What tfjs' call computes in training: normalise with the batch's moments, update the moving ones. */
function trainingCall(layer: BatchNormLayer, x: tf.Tensor, k: SimdKernels): tf.Tensor {
  return tf.tidy(() => {
    const stats: { mean?: tf.Tensor; variance?: tf.Tensor } = {};
    const normalize = tf.customGrad((...args: unknown[]) => {
      const [input, gamma, beta, save] = args as [
        tf.Tensor,
        tf.Tensor,
        tf.Tensor,
        (tensors: tf.Tensor[]) => void,
      ];
      const { y, mean, variance } = forward(k, input, gamma, beta, layer.epsilon);
      stats.mean = tf.keep(mean);
      stats.variance = tf.keep(variance);
      save([input, gamma, mean, variance]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sx, sgamma, smean, svariance] = saved as [
            tf.Tensor,
            tf.Tensor,
            tf.Tensor,
            tf.Tensor,
          ];
          return backward(k, dy, sx, sgamma, smean, svariance, layer.epsilon);
        },
      };
    });
    const y = normalize(x, layer.gamma!.read(), layer.beta!.read());
    // tfjs-layers' moving average, op for op: moving − (moving − batch) · (1 − momentum).
    const decay = 1 - layer.momentum;
    for (const [variable, value] of [
      [layer.movingMean, stats.mean!],
      [layer.movingVariance, stats.variance!],
    ] as const) {
      tf.tidy(() => {
        const orig = variable.read();
        variable.write(tf.sub(orig, tf.mul(tf.sub(orig, value), decay)));
      });
    }
    tf.dispose([stats.mean!, stats.variance!]);
    return y;
  });
}

const tensor = (info: tf.TensorInfo) => tf.engine().makeTensorFromTensorInfo(info);

/** The activation as rows of channels: m rows of c. */
function rows(x: tf.Tensor): { m: number; c: number } {
  const c = x.shape[x.rank - 1]!;
  return { m: x.size / c, c };
}

function forward(
  k: SimdKernels,
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  const backend = tf.backend() as BackendWasm;
  const { m, c } = rows(x);
  const mean = makeF32(backend, [c]);
  const variance = makeF32(backend, [c]);
  const scratch = makeF32(backend, [c]);
  const y = makeF32(backend, x.shape);
  const p = offsets(backend);
  k.bn_moments(p(x), p(mean), p(variance), p(scratch), m, c);
  // γ/√(var + ε), over c values: the heap views are taken after the last allocation.
  const scale = heapF32(backend, scratch);
  const g = heapF32(backend, gamma);
  const v = heapF32(backend, variance);
  for (let j = 0; j < c; j++) scale[j] = g[j]! / Math.fround(Math.sqrt(v[j]! + epsilon));
  k.bn_apply(p(x), p(y), p(mean), p(scratch), p(beta), m, c);
  release(backend, scratch);
  return { y: tensor(y), mean: tensor(mean), variance: tensor(variance) };
}

/**
 * The gradient of training-mode normalisation, the batch moments included (what tfjs gets by
 * differentiating FusedBatchNorm and tf.moments): with x̂ = (x − mean)/σ, σ = √(var + ε),
 *   dβ = Σ dy,  dγ = Σ dy · x̂,  dx = γ/σ · (dy − dβ/m − x̂ · dγ/m).
 */
function backward(
  k: SimdKernels,
  dy: tf.Tensor,
  x: tf.Tensor,
  gamma: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  epsilon: number,
): tf.Tensor[] {
  const backend = tf.backend() as BackendWasm;
  const { m, c } = rows(x);
  const dbeta = makeF32(backend, [c]);
  const sumDyx = makeF32(backend, [c]);
  const dgamma = makeF32(backend, [c]);
  const factors = makeF32(backend, [3 * c]);
  const scratch = makeF32(backend, [2 * c]);
  const dx = makeF32(backend, x.shape);
  const p = offsets(backend);
  const part = p(scratch);
  k.bn_grad_sums(p(dy), p(x), p(mean), p(dbeta), p(sumDyx), part, part + 4 * c, m, c);
  const f = heapF32(backend, factors);
  const g = heapF32(backend, gamma);
  const v = heapF32(backend, variance);
  const sDy = heapF32(backend, dbeta);
  const sDyx = heapF32(backend, sumDyx);
  const dg = heapF32(backend, dgamma);
  for (let j = 0; j < c; j++) {
    const inv = 1 / Math.sqrt(v[j]! + epsilon);
    const a = g[j]! * inv;
    dg[j] = sDyx[j]! * inv;
    f[j] = a;
    f[c + j] = (-a * inv * inv * sDyx[j]!) / m;
    f[2 * c + j] = (-a * sDy[j]!) / m;
  }
  const fp = p(factors);
  k.bn_grad_input(p(dy), p(x), p(mean), fp, fp + 4 * c, fp + 8 * c, p(dx), m, c);
  for (const t of [sumDyx, factors, scratch]) release(backend, t);
  return [tensor(dx), tensor(dgamma), tensor(dbeta)];
}
