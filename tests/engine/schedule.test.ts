import { describe, expect, it } from 'vitest';
import { PRESET_DEFAULTS, resolveTrainConfig } from '../../src-main/contract/config';
import { learningRateAt } from '../../src-main/engine/schedule';

describe('learningRateAt', () => {
  it('decay: the configured rate times decay^(epoch − 1), the same for every batch', () => {
    const config = resolveTrainConfig({ model: 'mlp', learningRate: 0.01, learningRateDecay: 0.5 });
    expect(learningRateAt(config, 1, 0, 100)).toBe(0.01);
    expect(learningRateAt(config, 1, 99, 100)).toBe(0.01);
    expect(learningRateAt(config, 3, 42, 100)).toBeCloseTo(0.0025, 12);
  });

  it('a config saved before schedules existed trains on decay', () => {
    const old = { ...PRESET_DEFAULTS.mlp };
    delete old.schedule;
    expect(learningRateAt(old, 2, 0, 10)).toBeCloseTo(0.002 * 0.7, 12);
  });

  it('one-cycle: warms up from lr/25 to lr over the first quarter, then anneals to nearly 0', () => {
    const config = resolveTrainConfig({
      model: 'cnn-fast',
      epochs: 4,
      learningRate: 0.02,
      schedule: 'one-cycle',
    });
    const batches = 50;
    const rates: number[] = [];
    for (let epoch = 1; epoch <= 4; epoch++)
      for (let b = 0; b < batches; b++) rates.push(learningRateAt(config, epoch, b, batches));
    expect(rates[0]).toBeCloseTo(0.02 / 25, 12);
    const peak = rates.indexOf(Math.max(...rates));
    expect(peak).toBe(50); // a quarter of 200 batches: the first batch of epoch 2
    expect(rates[peak]).toBeCloseTo(0.02, 12);
    for (let i = 1; i <= peak; i++) expect(rates[i]!).toBeGreaterThan(rates[i - 1]!);
    for (let i = peak + 1; i < rates.length; i++) expect(rates[i]!).toBeLessThan(rates[i - 1]!);
    expect(rates.at(-1)!).toBeLessThan(0.02 * 1e-3);
    expect(rates.at(-1)!).toBeGreaterThan(0);
    // Halfway through the anneal, half the peak (cosine).
    expect(learningRateAt(config, 3, 25, batches)).toBeCloseTo(0.01, 5);
  });

  it('one-cycle depends only on the position in the run, so a resumed run follows it exactly', () => {
    const config = resolveTrainConfig({ model: 'cnn-fast', epochs: 3 });
    const first = learningRateAt(config, 2, 17, 30);
    // Nothing is carried between calls: the same position gives the same rate.
    learningRateAt(config, 3, 29, 30);
    expect(learningRateAt(config, 2, 17, 30)).toBe(first);
  });
});
