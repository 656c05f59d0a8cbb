import * as tf from '@tensorflow/tfjs';
import { batchLoss } from '../batch-loss';
import { BackendTotals, type ImageShape, type TrainingStep } from './training-step';

/**
 * tfjs' own gradients and optimizer, on whatever backend is current (native TensorFlow, webgpu,
 * wasm with our kernels, cpu): the engine every model and backend can use.
 */
export class TfjsOpsStep implements TrainingStep {
  readonly threads = 1;
  private readonly sums = new BackendTotals();

  constructor(
    private readonly model: tf.LayersModel,
    /** Trainable weights only: BatchNorm's moving statistics are updated by the layer itself. */
    private readonly variables: tf.Variable[],
    private readonly shape: ImageShape,
    private readonly labelSmoothing = 0,
  ) {}

  begin(): void {
    this.sums.reset();
  }

  step(xs: Float32Array, ys: Int32Array, n: number): Promise<void> {
    const { rows, cols } = this.shape;
    const optimizer = this.model.optimizer;
    const [lossSum, correct] = tf.tidy((): [tf.Scalar, tf.Scalar] => {
      const x = tf.tensor4d(xs.subarray(0, n * rows * cols), [n, rows, cols, 1]);
      const y = tf.tensor1d(ys.subarray(0, n), 'int32');
      let correct: tf.Scalar | null = null;
      const loss = optimizer.minimize(
        () => {
          const batch = batchLoss(this.model, x, y, n, this.labelSmoothing);
          correct = batch.correct;
          return batch.loss;
        },
        true,
        this.variables,
      )!;
      return [tf.mul(loss, n) as tf.Scalar, correct! as tf.Scalar];
    });
    this.sums.add(lossSum, correct);
    return Promise.resolve();
  }

  totals(): Promise<{ lossSum: number; correct: number }> {
    return this.sums.read();
  }

  end(): void {
    this.sums.reset();
  }

  dispose(): Promise<void> {
    this.sums.reset();
    return Promise.resolve();
  }
}
