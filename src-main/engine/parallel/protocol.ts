import type { BackendName } from '../../contract/config';
import type { AccelTuning } from '../accel/tuning';
import type { AdamStep } from './shard-update';

/**
 * Between the leader (the thread running the training loop) and its gradient threads, the bulk
 * data lives in SharedArrayBuffers — the weights (one buffer, written by the leader, read by
 * every follower), each follower's gradients and each follower's share of the batch — and only
 * small control messages are posted. Measured per step (weights out, gradients back, no compute;
 * 2 cores under load): cnn 35k params 0.57 ms with transferred ArrayBuffers vs 0.40 ms shared,
 * mlp 102k params 1.0 vs 0.5 ms, cnn-strong 198k params 1.5 vs 0.9 ms. A fully shared design
 * that also signals through Atomics instead of messages saved only ~0.07 ms more, and would lose
 * the message-based error and exit handling.
 */

/** `workerData` of a gradient thread. */
export interface GradientThreadInit {
  /** The leader's backend; the thread activates the same one (wasm with our kernels, or cpu). */
  backend: BackendName;
  /** The leader's acceleration tuning, for the thread's own kernels (wasm). */
  tuning: AccelTuning;
  /** `model.toJSON(null, false)` of the leader's model: the replica is built from it. */
  topology: unknown;
  /** Shapes of the leader's trainable weights, in `model.trainableWeights` order. */
  weightShapes: number[][];
  /** Index of this thread (1 = the first follower; the leader is 0), for error messages. */
  index: number;
  /** float32 × total weights: the leader's current weights, all in a row, in order. */
  weights: SharedArrayBuffer;
  /** float32 × total weights: this thread's gradients, same layout. */
  grads: SharedArrayBuffer;
  /** Every thread's gradient buffer (0 = the leader's, i = follower i's `grads`). */
  allGrads: SharedArrayBuffer[];
  /** float32 × 2 × total weights: Adam's first moments, then its second moments. */
  moments: SharedArrayBuffer;
  /** Label smoothing of the training loss, the run's for the whole run. */
  labelSmoothing: number;
}

/** Leader → follower: compute the gradients of one share of a batch. */
export interface StepRequest {
  type: 'step';
  id: number;
  /** The shared weights changed since this thread last read them. */
  weightsChanged: boolean;
  /**
   * This thread's share of the batch, sent when (re)allocated: `capacity` rows of float32
   * images (rows × cols each) followed by `capacity` int32 labels.
   */
  batch?: { buffer: SharedArrayBuffer; capacity: number };
  /** Rows in this share. */
  n: number;
  rows: number;
  cols: number;
  /** The whole batch's size: the loss differentiated is (sum of this share's losses) / divisor. */
  divisor: number;
}

/**
 * Leader → follower, once every thread's gradients are in: add them up over this thread's slice
 * of the weights and apply Adam's update there, to the shared weights and moments
 * (shard-update.ts).
 */
export interface UpdateRequest {
  type: 'update';
  id: number;
  /** [from, to) ranges of the flat weights: the slice, less weights without a gradient. */
  ranges: [number, number][];
  /** Threads whose gradients to add: allGrads[0, contributors) (a thread with no share has none). */
  contributors: number;
  adam: AdamStep;
}

/**
 * Leader → follower, after an epoch: score one share of the validation set on the weights in
 * shared memory (the last update's) and the leader's non-trainable weights (BatchNorm's moving
 * statistics, which only the leader keeps), so validation is split over the threads like a batch.
 */
export interface EvaluateRequest {
  type: 'evaluate';
  id: number;
  /** `n` images (rows × cols float32 each) followed by `n` int32 labels, from offset 0. */
  share: { buffer: SharedArrayBuffer; n: number };
  rows: number;
  cols: number;
  /** The leader's non-trainable weights, in `model.nonTrainableWeights` order. */
  nonTrainable: Float32Array[];
}

export type ToFollower = StepRequest | UpdateRequest | EvaluateRequest;

export type FromFollower =
  | { type: 'ready' }
  | {
      type: 'result';
      id: number;
      /** Per trainable weight: whether the loss depends on it (its gradient was written). */
      hasGrad: boolean[];
      /** Sum (not mean) of this share's cross-entropy, and its number of correct predictions. */
      lossSum: number;
      correct: number;
      /** Time the thread spent on the request, for the measurements. */
      ms: number;
      /** Tensors alive in the thread after the step (the replica's weights): a leak check. */
      tensors: number;
    }
  | { type: 'updated'; id: number; ms: number }
  | {
      type: 'evaluated';
      id: number;
      /** Σ cross-entropy over the share, and its confusion matrix (confusion[actual][predicted]). */
      lossSum: number;
      confusion: number[][];
      ms: number;
    }
  | { type: 'error'; id: number | null; message: string };

/** float32 views of consecutive tensors in one buffer: offsets[i] … offsets[i] + sizes[i]. */
export function layout(shapes: number[][]): { sizes: number[]; offsets: number[]; total: number } {
  const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const offsets: number[] = [];
  let total = 0;
  for (const size of sizes) {
    offsets.push(total);
    total += size;
  }
  return { sizes, offsets, total };
}

export function batchViews(buffer: SharedArrayBuffer, capacity: number, px: number) {
  return {
    xs: new Float32Array(buffer, 0, capacity * px),
    ys: new Int32Array(buffer, capacity * px * 4, capacity),
  };
}
