/**
 * TensorBoard's scalar smoothing: an exponential moving average, debiased so the first points
 * are not pulled towards zero. Incremental, so each new batch point costs O(1).
 */
export class EmaSmoother {
  private last = 0;
  private count = 0;

  constructor(private weight: number) {
    if (!(weight >= 0 && weight < 1)) throw new RangeError('smoothing weight must be in [0, 1)');
  }

  push(value: number): number {
    if (!Number.isFinite(value)) return this.count ? this.current() : value;
    this.last = this.last * this.weight + (1 - this.weight) * value;
    this.count++;
    return this.current();
  }

  private current(): number {
    return this.last / (1 - this.weight ** this.count);
  }
}

export function smooth(values: readonly number[], weight: number): number[] {
  const ema = new EmaSmoother(weight);
  return values.map((v) => ema.push(v));
}
