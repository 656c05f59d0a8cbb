import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { batchLoss } from '../batch-loss';

/**
 * What the leader and every gradient thread run on their share of a batch: the same loss as the
 * single-thread step (batch-loss.ts), only over a slice of the rows and divided by the
 * whole batch's size, so the shares' gradients simply add up to the full batch's gradient of the
 * mean loss.
 */

export interface ShareGradients {
  /** One per variable, in order; null where the loss does not depend on it. */
  grads: (tf.Tensor | null)[];
  /** (sum of the share's cross-entropy) / divisor. */
  loss: tf.Scalar;
  /** Correct predictions in the share. */
  correct: tf.Scalar;
}

export function shareGradients(
  model: tf.LayersModel,
  variables: tf.Variable[],
  xs: Float32Array,
  ys: Int32Array,
  shape: { n: number; rows: number; cols: number },
  divisor: number,
  labelSmoothing = 0,
): ShareGradients {
  const { n, rows, cols } = shape;
  let correct: tf.Scalar | null = null;
  const { value, grads } = tf.tidy(() => {
    const x = tf.tensor4d(xs.subarray(0, n * rows * cols), [n, rows, cols, 1]);
    const y = tf.tensor1d(ys.subarray(0, n), 'int32');
    return tf.variableGrads(() => {
      const share = batchLoss(model, x, y, divisor, labelSmoothing);
      correct = share.correct;
      return share.loss;
    }, variables);
  });
  return {
    grads: variables.map((v) => grads[v.name] ?? null),
    loss: value,
    correct: correct!,
  };
}

/**
 * A float32 tensor's values without a copy where the backend allows it (a view of the wasm heap),
 * to be copied somewhere else at once: the view is only valid until the next tensor allocation.
 */
export function peekFloat32(t: tf.Tensor): Float32Array {
  if (t.dtype !== 'float32') throw new Error(`expected a float32 tensor, got ${t.dtype}`);
  if (tf.getBackend() === 'wasm') {
    return (tf.backend() as BackendWasm).typedArrayFromHeap(t) as Float32Array;
  }
  return t.dataSync() as Float32Array;
}

/**
 * A tensor holding a copy of values in shared memory. The wasm backend copies into its heap
 * anyway; the cpu backend would keep the array itself, which the other thread overwrites later.
 */
export function tensorFromShared(values: Float32Array, shape: number[]): tf.Tensor {
  return tf.tensor(tf.getBackend() === 'wasm' ? values : values.slice(), shape, 'float32');
}
