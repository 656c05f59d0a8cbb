import * as tf from '@tensorflow/tfjs';
import { crossEntropySum } from './evaluate';

/**
 * The training loss every tfjs-ops engine differentiates, in one place: the single-thread step
 * (steps/tfjs-ops.ts) and each data-parallel share (parallel/share.ts). Call it inside a function
 * tfjs differentiates (optimizer.minimize, tf.variableGrads): `loss` is (Σ cross-entropy over
 * the rows) / divisor, the whole batch's size, so shares' gradients add up to the batch's;
 * `correct` is kept out of the tidy scope (the caller disposes it).
 */
export function batchLoss(
  model: tf.LayersModel,
  xs: tf.Tensor4D,
  ys: tf.Tensor1D,
  divisor: number,
  /** Label smoothing of the training loss (crossEntropySum); 0 = off. */
  smoothing = 0,
): { loss: tf.Scalar; correct: tf.Scalar } {
  const probs = model.apply(xs, { training: true }) as tf.Tensor2D;
  const correct = tf.keep(
    tf.sum(tf.cast(tf.equal(tf.argMax(probs, 1), ys), 'float32')) as tf.Scalar,
  );
  return { loss: tf.div(crossEntropySum(probs, ys, smoothing), divisor) as tf.Scalar, correct };
}
