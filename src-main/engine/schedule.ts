import type { TrainConfig } from '../contract/config';

/** One-cycle's shape, as PyTorch's OneCycleLR defaults (pct_start 0.25 here, cosine anneal). */
const WARMUP_FRACTION = 0.25;
const START_DIVISOR = 25;
const END_DIVISOR = 25 * 1e4;

/**
 * The learning rate for one batch: a pure function of where the batch sits in the run, so a
 * resumed run follows exactly the schedule it would have followed uninterrupted.
 *
 * @param epoch 1-based, as the trainer counts epochs
 * @param batch 0-based within the epoch
 */
export function learningRateAt(
  config: Pick<TrainConfig, 'learningRate' | 'learningRateDecay' | 'schedule' | 'epochs'>,
  epoch: number,
  batch: number,
  batchesPerEpoch: number,
): number {
  const peak = config.learningRate;
  if ((config.schedule ?? 'decay') === 'decay')
    return peak * config.learningRateDecay ** (epoch - 1);
  const total = Math.max(1, config.epochs * batchesPerEpoch);
  const t = Math.min(1, ((epoch - 1) * batchesPerEpoch + batch) / total);
  const start = peak / START_DIVISOR;
  if (t < WARMUP_FRACTION) return start + (peak - start) * (t / WARMUP_FRACTION);
  const end = peak / END_DIVISOR;
  const progress = (t - WARMUP_FRACTION) / (1 - WARMUP_FRACTION);
  return end + ((peak - end) * (1 + Math.cos(Math.PI * progress))) / 2;
}
