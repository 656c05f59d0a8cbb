import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../data';
import type { SetMetrics } from '../evaluate';

/**
 * One optimizer step per batch, whichever engine computes it: tfjs ops (any backend), the fused
 * Dense step (fused/, wasm) or data-parallel threads (parallel/, wasm and cpu). The trainer's
 * batch loop sees only this; steps/choose.ts decides which engine a run gets.
 *
 * The loss and correct counts accumulate inside the step and are read only through `totals`, so
 * a GPU backend is not made to sync after every batch: the trainer reads them when a batch event
 * is due and at the epoch's end.
 */
export interface TrainingStep {
  /** Threads computing each step (the 'started' event reports it). */
  readonly threads: number;
  /**
   * Start of an epoch: an engine that keeps its own copy of the weights and the optimizer's
   * state takes them from the model now; the epoch's totals start at 0. `dropoutSeed` seeds the
   * dropout masks of an engine that draws its own (the fused step); the others use tfjs'.
   */
  begin(dropoutSeed: number): void;
  /**
   * One step on the first n images of xs (n × rows × cols floats) and labels of ys, at the
   * learning rate the model's optimizer has now.
   */
  step(xs: Float32Array, ys: Int32Array, n: number): Promise<void>;
  /** Σ cross-entropy and Σ correct predictions over the epoch's steps so far. */
  totals(): Promise<{ lossSum: number; correct: number }>;
  /**
   * End of an epoch (also when it stops or fails): the model gets the weights and optimizer
   * state back, where validation, checkpoints and a resume read them.
   */
  end(): void;
  /**
   * Scores a set on the model after `end`, where the engine can do it faster than evaluateSet on
   * this thread (the data-parallel threads split it); absent: evaluateSet.
   */
  evaluate?(set: ImageSet): Promise<SetMetrics>;
  /** Releases what the engine holds (threads, heap memory); the model stays the caller's. */
  dispose(): Promise<void>;
}

/** An image batch's shape: the images are rows × cols, one channel. */
export interface ImageShape {
  rows: number;
  cols: number;
}

/**
 * Running totals kept on the backend as scalars, for engines whose step yields tensors: adding
 * them never waits for the backend; `read` does, once.
 */
export class BackendTotals {
  private lossSum: tf.Scalar | null = null;
  private correct: tf.Scalar | null = null;

  /** Adds a step's sums, taking them over (they are disposed here). */
  add(lossSum: tf.Scalar, correct: tf.Scalar): void {
    if (this.lossSum === null || this.correct === null) {
      this.lossSum = lossSum;
      this.correct = correct;
      return;
    }
    const nextLoss = tf.add(this.lossSum, lossSum) as tf.Scalar;
    const nextCorrect = tf.add(this.correct, correct) as tf.Scalar;
    tf.dispose([this.lossSum, this.correct, lossSum, correct]);
    this.lossSum = nextLoss;
    this.correct = nextCorrect;
  }

  // Read asynchronously: webgpu's dataSync needs OffscreenCanvas, which Node does not have.
  async read(): Promise<{ lossSum: number; correct: number }> {
    return {
      lossSum: this.lossSum ? (await this.lossSum.data())[0]! : 0,
      correct: this.correct ? (await this.correct.data())[0]! : 0,
    };
  }

  reset(): void {
    tf.dispose([this.lossSum, this.correct].filter((t): t is tf.Scalar => t !== null));
    this.lossSum = null;
    this.correct = null;
  }
}
