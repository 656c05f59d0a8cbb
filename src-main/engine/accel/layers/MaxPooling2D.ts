import * as tf from '@tensorflow/tfjs';
import type { AccelTuning } from '../tuning';
import { callReplaced, replaceCall, restoreCall } from './replace-call';

/**
 * The other half of layers/Conv2D.ts' fused Conv2D+bias+ReLU+max pool: in training, a Conv2D
 * layer whose only consumer is a 2×2 stride-2 'valid' MaxPooling2D returns the pooled map
 * itself (native/simd/bias-relu-pool.c, forward and backward in one pass each), and marks it
 * here; this layer's training call passes a marked tensor on instead of pooling it again.
 * Unmarked inputs, inference, and any other layer go to tfjs' own call, and the model's layers,
 * weights and saved form stay as they are.
 */

/** The parts of tfjs-layers' MaxPooling2D the check reads. */
interface PoolLayer {
  poolSize: number[];
  strides: number[];
  padding: string;
  dataFormat: string;
  getClassName(): string;
}

type Call = (
  this: PoolLayer,
  inputs: tf.Tensor | tf.Tensor[],
  kwargs: Record<string, unknown>,
) => tf.Tensor | tf.Tensor[];

const layerClass = Object.getPrototypeOf(tf.layers.maxPooling2d({ poolSize: 2 })) as {
  call: Call;
};

/** Tensors a fused Conv2D already pooled, each passed on once by the pool layer after it. */
const pooledByConv = new WeakSet<tf.Tensor>();

/** Marks the pooled map a fused Conv2D returns in place of its unpooled output. */
export function markPooled(t: tf.Tensor): void {
  pooledByConv.add(t);
}

/** Whether `layer` is a MaxPooling2D that a fused Conv2D can do the work of. */
export function poolsTwoByTwo(layer: PoolLayer): boolean {
  return (
    poolInstalled() &&
    layer.getClassName() === 'MaxPooling2D' &&
    layer.poolSize.length === 2 &&
    layer.poolSize.every((s) => s === 2) &&
    layer.strides.length === 2 &&
    layer.strides.every((s) => s === 2) &&
    layer.padding === 'valid' &&
    layer.dataFormat === 'channelsLast'
  );
}

/** Lets MaxPooling2D pass on maps a fused Conv2D pooled (tuning.convPool permitting). */
export function installMaxPooling2D(tuning: AccelTuning): void {
  uninstallMaxPooling2D();
  if (!tuning.simd || !tuning.convActivation || !tuning.convPool) return;
  replaceCall(
    layerClass,
    (tfjsCall) =>
      function (this: PoolLayer, inputs: tf.Tensor | tf.Tensor[], kwargs) {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        if (x !== undefined && pooledByConv.delete(x)) {
          // Layer.apply copies an output that is its input, so the graph sees a new tensor.
          return x;
        }
        return tfjsCall.call(this, inputs, kwargs);
      } satisfies Call,
  );
}

/** tfjs' own MaxPooling2D call again. */
export function uninstallMaxPooling2D(): void {
  restoreCall(layerClass);
}

export function poolInstalled(): boolean {
  return callReplaced(layerClass);
}
