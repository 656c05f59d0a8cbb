import type { FusedDenseStep } from '../fused/dense-step';
import type { TrainingStep } from './training-step';

/**
 * The fused Dense-stack step (fused/dense-step.ts) on the wasm heap. It holds its own copy of
 * the weights and Adam's state during an epoch, and computes its loss in JavaScript already, so
 * its totals are plain numbers.
 */
export class FusedDenseTraining implements TrainingStep {
  readonly threads = 1;
  private lossSum = 0;
  private correct = 0;

  constructor(private readonly fused: FusedDenseStep) {}

  begin(dropoutSeed: number): void {
    this.fused.load();
    this.fused.seedDropout(dropoutSeed);
    this.lossSum = 0;
    this.correct = 0;
  }

  step(xs: Float32Array, ys: Int32Array, n: number): Promise<void> {
    const result = this.fused.step(xs, ys, n);
    this.lossSum += result.lossSum;
    this.correct += result.correct;
    return Promise.resolve();
  }

  totals(): Promise<{ lossSum: number; correct: number }> {
    return Promise.resolve({ lossSum: this.lossSum, correct: this.correct });
  }

  end(): void {
    this.fused.store();
  }

  dispose(): Promise<void> {
    this.fused.dispose();
    return Promise.resolve();
  }
}
