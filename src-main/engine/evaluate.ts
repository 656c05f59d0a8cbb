import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from './data';

/**
 * Loss, accuracy and confusion matrix of a model on a labelled set, in chunks so memory stays
 * flat on the 10,000-image test set and progress can be reported between chunks.
 */

export interface SetMetrics {
  loss: number;
  accuracy: number;
  /** confusion[actual][predicted] */
  confusion: number[][];
  perClass: number[];
  count: number;
  /** count × 10 softmax outputs, row per image; only when asked for (40 bytes per image). */
  probabilities: Float32Array | null;
}

const EPSILON = 1e-7; // Keras' epsilon: log never sees 0.

/**
 * Sparse categorical cross-entropy on softmax outputs, summed (callers divide). Keras clips the
 * probabilities to [ε, 1 − ε]; adding ε instead differs by at most 1e-7 but keeps a NaN a NaN
 * (clip turns NaN into ε on some backends), so a model that has blown up is detected.
 *
 * With `smoothing` s > 0 the target is (1 − s)·onehot + s/10 (Keras' label_smoothing): the loss
 * a model trains on, never the one validation and evaluation report.
 */
export function crossEntropySum(probs: tf.Tensor2D, labels: tf.Tensor1D, smoothing = 0): tf.Scalar {
  return tf.tidy(() => {
    const classes = probs.shape[1];
    if (smoothing === 0) {
      const picked = tf.sum(tf.mul(tf.oneHot(labels, classes), probs), 1);
      return tf.neg(tf.sum(tf.log(tf.add(picked, EPSILON)))) as tf.Scalar;
    }
    const target = tf.add(tf.mul(tf.oneHot(labels, classes), 1 - smoothing), smoothing / classes);
    return tf.neg(tf.sum(tf.mul(target, tf.log(tf.add(probs, EPSILON))))) as tf.Scalar;
  });
}

/**
 * One set's metrics from those of the parts it was split into (their summed losses and
 * confusion matrices), as evaluateSet would give them on the whole set.
 */
export function combineSetMetrics(parts: { lossSum: number; confusion: number[][] }[]): SetMetrics {
  const confusion = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
  let lossSum = 0;
  for (const part of parts) {
    lossSum += part.lossSum;
    part.confusion.forEach((row, actual) =>
      row.forEach((count, predicted) => (confusion[actual]![predicted]! += count)),
    );
  }
  const count = confusion.flat().reduce((a, b) => a + b, 0);
  return setMetrics(lossSum, confusion, count, null);
}

/** A set's metrics from its summed loss and its confusion matrix over `count` images. */
function setMetrics(
  lossSum: number,
  confusion: number[][],
  count: number,
  probabilities: Float32Array | null,
): SetMetrics {
  const correct = confusion.reduce((sum, row, actual) => sum + row[actual]!, 0);
  return {
    loss: count ? lossSum / count : NaN,
    accuracy: count ? correct / count : NaN,
    confusion,
    perClass: confusionToPerClass(confusion),
    count,
    probabilities,
  };
}

export function confusionToPerClass(confusion: number[][]): number[] {
  return confusion.map((row, actual) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total === 0 ? 0 : row[actual]! / total;
  });
}

export async function evaluateSet(
  model: tf.LayersModel,
  set: ImageSet,
  options: {
    chunk?: number;
    onProgress?: (done: number, total: number) => void;
    yieldEvery?: boolean;
    keepProbabilities?: boolean;
  } = {},
): Promise<SetMetrics> {
  const chunk = options.chunk ?? 500;
  const confusion = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
  const px = set.rows * set.cols;
  let lossSum = 0;
  const kept = options.keepProbabilities ? new Float32Array(set.count * 10) : null;
  for (let start = 0; start < set.count; start += chunk) {
    const n = Math.min(chunk, set.count - start);
    const labels = set.labels.subarray(start, start + n);
    const [loss, predicted, probs] = tf.tidy(() => {
      const xs = tf.tensor4d(set.images.subarray(start * px, (start + n) * px), [
        n,
        set.rows,
        set.cols,
        1,
      ]);
      // One batch per chunk: predict's default of 32 slices the chunk into 16 calls of each kernel.
      const probs = model.predict(xs, { batchSize: n }) as tf.Tensor2D;
      const ys = tf.tensor1d(Int32Array.from(labels), 'int32');
      return [
        crossEntropySum(probs, ys),
        tf.argMax(probs, 1),
        kept ? tf.keep(probs) : null,
      ] as const;
    });
    lossSum += (await loss.data())[0]!;
    const preds = await predicted.data();
    if (kept && probs) kept.set(await probs.data(), start * 10);
    tf.dispose([loss, predicted, ...(probs ? [probs] : [])]);
    for (let i = 0; i < n; i++) {
      const actual = labels[i]!;
      const p = preds[i]!;
      confusion[actual]![p]!++;
    }
    options.onProgress?.(start + n, set.count);
    // Lets the worker answer a stop or a list request during a long evaluation.
    if (options.yieldEvery) await new Promise((r) => setImmediate(r));
  }
  return setMetrics(lossSum, confusion, set.count, kept);
}
