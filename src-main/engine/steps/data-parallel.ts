import type { ImageSet } from '../data';
import type { SetMetrics } from '../evaluate';
import type { DataParallel } from '../parallel/data-parallel';
import { BackendTotals, type ImageShape, type TrainingStep } from './training-step';

/**
 * Data-parallel steps over gradient threads (parallel/data-parallel.ts). Adam's state lives in
 * shared memory from the first step of an epoch to `end`, which gives it back to the model.
 */
export class DataParallelTraining implements TrainingStep {
  private readonly sums = new BackendTotals();

  constructor(
    private readonly parallel: DataParallel,
    private readonly shape: ImageShape,
  ) {}

  get threads(): number {
    return this.parallel.threads;
  }

  begin(): void {
    this.sums.reset();
  }

  async step(xs: Float32Array, ys: Int32Array, n: number): Promise<void> {
    const [lossSum, correct] = await this.parallel.step(xs, ys, { n, ...this.shape });
    this.sums.add(lossSum, correct);
  }

  totals(): Promise<{ lossSum: number; correct: number }> {
    return this.sums.read();
  }

  end(): void {
    this.parallel.store();
    this.sums.reset();
  }

  evaluate(set: ImageSet): Promise<SetMetrics> {
    return this.parallel.evaluate(set);
  }

  async dispose(): Promise<void> {
    this.sums.reset();
    await this.parallel.close();
  }
}
